"""The page of `maskdet serve` in headless Chromium (Debian's chromium, chromium-driver and
python3-selenium; run with /usr/bin/python3): opens /, uploads a face photo through the file
input, waits until the page has drawn the answer, and checks the page shows what the API returns
for that photo: as many rows in the detections table as detections, with the same classes, and
the canvas at the photo's size with pixels other than the photo's where the boxes are drawn.
Saves a screenshot (--screenshot). Exit status 77 (a skip) where selenium or chromium is missing.
  /usr/bin/python3 tests/serve/browser_test.py --maskdet build/apps/maskdet --make-voc build/apps/make_synthetic_voc
  /usr/bin/python3 tests/serve/browser_test.py --maskdet ... --snapshot S --photo P --screenshot out.png [-- FLAGS]"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serve_util  # noqa: E402

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError as e:
    print(f"skipped: selenium is not installed for {sys.executable} ({e}); scripts/install-deps.sh installs it")
    sys.exit(77)


def api_answer(url, photo):
    request = urllib.request.Request(url + "/v1/detect", data=open(photo, "rb").read(),
                                     headers={"Content-Type": "image/jpeg"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--maskdet", required=True)
    parser.add_argument("--make-voc")
    parser.add_argument("--snapshot")
    parser.add_argument("--photo")
    parser.add_argument("--screenshot", required=True)
    parser.add_argument("--width", type=int, default=1000)
    parser.add_argument("serve_flags", nargs="*")
    args = parser.parse_args()
    browser, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not browser or not driver_path:
        print("skipped: chromium or chromedriver is missing; scripts/install-deps.sh installs them")
        return 77
    with tempfile.TemporaryDirectory(prefix="maskdet_browser_") as workdir:
        snapshot, photo, flags = args.snapshot, args.photo, args.serve_flags
        if not snapshot:
            snapshot, photo = serve_util.tiny_snapshot(args.maskdet, args.make_voc, workdir)
            flags = ["--score-threshold", "0"] + flags  # the tiny model scores about 0.01 (the head's prior)
        with serve_util.Server(args.maskdet, snapshot, *flags) as server:
            expected = api_answer(server.url, photo)
            options = webdriver.ChromeOptions()
            options.binary_location = browser
            for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         f"--window-size={args.width},900", f"--user-data-dir={workdir}/profile"):
                options.add_argument(flag)
            driver = webdriver.Chrome(service=Service(driver_path), options=options)
            try:
                driver.get(server.url + "/")
                WebDriverWait(driver, 30).until(
                    lambda d: "RetinaNet" in d.find_element(By.ID, "model").text)  # /healthz answered
                driver.find_element(By.ID, "file").send_keys(os.path.abspath(photo))
                WebDriverWait(driver, 60).until(
                    lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-state") in ("done", "error"))
                status = driver.find_element(By.ID, "status").text
                state = driver.find_element(By.TAG_NAME, "body").get_attribute("data-state")
                assert state == "done", f"the page shows an error: {status}"
                rows = driver.find_elements(By.CSS_SELECTOR, "#detections tr.detection")
                want = expected["detections"]
                assert want, "the API returned no boxes for the photo: nothing to see drawn (lower --score-threshold)"
                assert len(rows) == len(want), f"{len(rows)} rows in the page, {len(want)} detections from the API"
                assert [r.get_attribute("data-class") for r in rows] == [d["class"] for d in want]
                canvas = driver.find_element(By.ID, "view")
                assert canvas.get_attribute("data-boxes") == str(len(want))
                size = driver.execute_script("const c = document.getElementById('view'); return [c.width, c.height];")
                assert size == [expected["image"]["width"], expected["image"]["height"]], size
                # The first box's outline is drawn in its class's colour over the photo. The line is
                # at least 2 px wide and centred on x1, so the pixel [floor(x1), floor(x1) + 1) lies
                # wholly under it, unblended by antialiasing, whatever the fraction of x1.
                b = want[0]["box"]
                pixel = driver.execute_script(
                    "const g = document.getElementById('view').getContext('2d');"
                    "return Array.from(g.getImageData(arguments[0], arguments[1], 1, 1).data);",
                    min(int(b["x1"]), expected["image"]["width"] - 1),
                    int((b["y1"] + b["y2"]) / 2))
                colours = {"mask": [0x1e, 0x9e, 0x3a], "noMask": [0xd9, 0x30, 0x25]}
                colour = colours.get(want[0]["class"])
                assert colour is None or all(abs(p - c) <= 8 for p, c in zip(pixel[:3], colour)), \
                    f"no {want[0]['class']} outline at the first box's left edge: {pixel}"
                assert str(len(want)) in status, status
                driver.save_screenshot(args.screenshot)
                print(f"the page showed {len(rows)} detections, as the API answered ({status}); "
                      f"screenshot {args.screenshot}")
            finally:
                driver.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
