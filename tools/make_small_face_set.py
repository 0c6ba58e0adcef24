"""Faces of 16-40 px from photographs of large ones: each image of a VOC set shrunk so that its
largest face is a side drawn from --face-px (its other faces end up smaller), the shrunk photos
packed in rows onto mosaics, their boxes scaled to match, as a crowd or a shop entrance shows
them. A held-out check of the small-face pass (apps/maskdet/small_face_pass.h) on real faces:
make the mosaics from the validation images only (`maskdet evaluate` writes their list to
<out>/images.txt), then `maskdet evaluate --data OUT` with and without --min-face.

  /usr/bin/python3 tools/make_small_face_set.py --images runs/main/evaluation/images.txt \
      --out /tmp/small_faces [--face-px 16,40] [--size 1280x960] [--seed 1]

The image list holds one image path per line; each image's annotation is the annotations/ file of
the same stem beside its images/ folder (the VOC flat layout). Needs Pillow (Debian's
python3-pil). The output folder must not exist yet: nothing is overwritten.
"""
import argparse
import os
import random
import sys
import xml.etree.ElementTree as ET

from PIL import Image


def annotation_of(image_path):
    folder, name = os.path.split(image_path)
    stem = os.path.splitext(name)[0]
    return os.path.join(os.path.dirname(folder), "annotations", stem + ".xml")


def read_boxes(xml_path):
    try:
        root = ET.parse(xml_path).getroot()
    except (ET.ParseError, OSError) as error:
        raise SystemExit(f"{xml_path}: cannot read the annotation: {error}")
    boxes = []
    for index, obj in enumerate(root.iter("object")):
        box = obj.find("bndbox")
        name = obj.findtext("name")
        if box is None or not name:
            raise SystemExit(f"{xml_path}: object {index + 1} has no name or bndbox")
        try:
            coords = [float(box.findtext(tag)) for tag in ("xmin", "ymin", "xmax", "ymax")]
        except (TypeError, ValueError):
            raise SystemExit(f"{xml_path}: object {index + 1} has a bndbox that is not four numbers")
        boxes.append((name.strip(), coords, obj.findtext("difficult", "0").strip() == "1"))
    return boxes


def write_voc(path, filename, width, height, boxes):
    root = ET.Element("annotation")
    ET.SubElement(root, "filename").text = filename
    size = ET.SubElement(root, "size")
    for tag, value in (("width", width), ("height", height), ("depth", 3)):
        ET.SubElement(size, tag).text = str(value)
    for name, (x1, y1, x2, y2), difficult in boxes:
        obj = ET.SubElement(root, "object")
        ET.SubElement(obj, "name").text = name
        ET.SubElement(obj, "difficult").text = "1" if difficult else "0"
        box = ET.SubElement(obj, "bndbox")
        for tag, value in (("xmin", x1), ("ymin", y1), ("xmax", x2), ("ymax", y2)):
            ET.SubElement(box, tag).text = str(int(round(value)))
    ET.ElementTree(root).write(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", required=True, help="a list of image paths, one per line")
    parser.add_argument("--out", required=True, help="new VOC folder: images/ and annotations/")
    parser.add_argument("--face-px", default="16,40", help="MIN,MAX side of each photo's largest face")
    parser.add_argument("--size", default="1280x960", help="each mosaic's WIDTHxHEIGHT")
    parser.add_argument("--seed", type=int, default=1, help="seeds the face sides drawn")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    low, high = (float(v) for v in args.face_px.split(","))
    if not 0 < low <= high:
        raise SystemExit("--face-px must be MIN,MAX with 0 < MIN <= MAX")
    if os.path.exists(args.out):
        raise SystemExit(f"{args.out} exists: give a new folder")
    with open(args.images) as f:
        images = [line.strip() for line in f if line.strip()]
    if not images:
        raise SystemExit(f"{args.images} lists no images")
    os.makedirs(os.path.join(args.out, "images"))
    os.makedirs(os.path.join(args.out, "annotations"))
    rng = random.Random(args.seed)
    mosaics = []  # (canvas, boxes)
    x = y = row_height = 0
    sides = []
    for image_path in images:
        boxes = read_boxes(annotation_of(image_path))
        if not boxes:
            continue
        try:
            photo = Image.open(image_path).convert("RGB")
        except OSError as error:
            raise SystemExit(f"{image_path}: cannot read the image: {error}")
        largest = max(max(x2 - x1, y2 - y1) for _, (x1, y1, x2, y2), _ in boxes)
        scale = min(rng.uniform(low, high) / largest, (width - 1) / photo.width, (height - 1) / photo.height)
        shrunk = photo.resize((max(1, round(photo.width * scale)), max(1, round(photo.height * scale))), Image.LANCZOS)
        if x + shrunk.width > width:  # next row
            x, y, row_height = 0, y + row_height, 0
        if not mosaics or y + shrunk.height > height:  # next mosaic
            mosaics.append((Image.new("RGB", (width, height), (114, 114, 114)), []))
            x = y = row_height = 0
        canvas, placed = mosaics[-1]
        canvas.paste(shrunk, (x, y))
        for name, (x1, y1, x2, y2), difficult in boxes:
            box = (x + x1 * scale, y + y1 * scale, x + x2 * scale, y + y2 * scale)
            placed.append((name, box, difficult))
            sides.append(max(box[2] - box[0], box[3] - box[1]))
        x += shrunk.width
        row_height = max(row_height, shrunk.height)
    for m, (canvas, placed) in enumerate(mosaics):
        stem = f"mosaic_{m:03d}"
        canvas.save(os.path.join(args.out, "images", stem + ".jpg"), quality=95)
        write_voc(os.path.join(args.out, "annotations", stem + ".xml"), stem + ".jpg", width, height, placed)
    sides.sort()
    print(f"wrote {len(mosaics)} mosaics of {len(images)} images with "
          f"{len(sides)} faces to {args.out}: face side median {sides[len(sides) // 2]:.0f} px, "
          f"{sum(s < 16 for s in sides)} under 16 px, {sum(16 <= s < 32 for s in sides)} of 16-32 px, "
          f"{sum(s >= 32 for s in sides)} from 32 px")


if __name__ == "__main__":
    sys.exit(main())
