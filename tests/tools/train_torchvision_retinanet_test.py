"""The torchvision reference run (tools/train_torchvision_retinanet.py) and its comparison with a
maskdet run (tools/compare_torchvision.py): the evaluator against hand-computed cases and
against tests/eval/data/eval_case.json (the pycocotools and devkit numbers maskdet's evaluator is
tested with), the weight loading, the model's layout, and tiny end-to-end runs on synthetic VOC
images.

    python3 tests/tools/train_torchvision_retinanet_test.py

Runs itself under Debian's /usr/bin/python3, which has torch and torchvision; exits 77 (skipped)
where that interpreter cannot import them.
"""
import io
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import unittest
from contextlib import redirect_stdout

TORCH_PYTHON = "/usr/bin/python3"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def ensure_torch_interpreter():
    """Re-runs this file under TORCH_PYTHON unless this interpreter already has torch and
    torchvision; exits 77 when neither does."""
    try:
        import torch  # noqa: F401
        import torchvision  # noqa: F401
        return
    except ImportError:
        pass
    check = [TORCH_PYTHON, "-c", "import torch, torchvision"]
    if os.path.realpath(sys.executable) != os.path.realpath(TORCH_PYTHON) and os.path.exists(TORCH_PYTHON) \
            and subprocess.run(check, capture_output=True).returncode == 0:
        os.execv(TORCH_PYTHON, [TORCH_PYTHON, os.path.abspath(__file__)] + sys.argv[1:])
    print(f"skipping: {TORCH_PYTHON} cannot import torch and torchvision (scripts/install-deps.sh --torch)")
    sys.exit(77)


if __name__ == "__main__":
    ensure_torch_interpreter()

import torch  # noqa: E402
import torchvision  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "tools"))
import compare_torchvision as compare  # noqa: E402
import train_torchvision_retinanet as ref  # noqa: E402
from safetensors_io import write_safetensors  # noqa: E402

CLASSES = ["mask", "noMask"]


def image(ground_truth, detections):
    return {"ground_truth": ground_truth, "detections": detections}


class VocApTest(unittest.TestCase):
    def test_a_perfect_detector_scores_one_everywhere(self):
        images = [image([(10, 10, 50, 60, 0, False), (70, 20, 120, 90, 1, False)],
                        [(10, 10, 50, 60, 0, 0.9), (70, 20, 120, 90, 1, 0.8)]),
                  image([(5, 5, 40, 40, 1, False)], [(5, 5, 40, 40, 1, 0.7)])]
        result = ref.evaluate(images, CLASSES)
        for name in CLASSES:
            self.assertEqual(result["per_class"][name]["ap50"], 1.0)
            self.assertAlmostEqual(result["per_class"][name]["ap"], 1.0, places=12)
        self.assertEqual(result["map50"], 1.0)
        self.assertAlmostEqual(result["map"], 1.0, places=12)
        self.assertEqual(result["agnostic_ap50"], 1.0)

    def test_two_ground_truths_and_a_false_positive_between_them(self):
        # Ranked: TP (recall 1/2, precision 1), FP (1/2, 1/2), TP (1, 2/3). The envelope is 1 up to
        # recall 1/2 and 2/3 up to 1: AP = 1/2 * 1 + 1/2 * 2/3.
        images = [image([(0, 0, 10, 10, 0, False), (100, 100, 120, 120, 0, False)],
                        [(0, 0, 10, 10, 0, 0.9), (50, 50, 60, 60, 0, 0.8), (100, 100, 120, 120, 0, 0.7)])]
        ap, num_gt, num_det = ref.voc_ap(images, 0)
        self.assertAlmostEqual(ap, 0.5 + 0.5 * 2 / 3, places=12)
        self.assertEqual((num_gt, num_det), (2, 3))

    def test_a_second_detection_of_one_face_is_a_false_positive(self):
        # TP then FP at full recall: the FP after the last TP costs nothing.
        images = [image([(0, 0, 10, 10, 0, False)], [(0, 0, 10, 10, 0, 0.9), (0, 0, 10, 11, 0, 0.5)])]
        self.assertEqual(ref.voc_ap(images, 0)[0], 1.0)
        # Ranked the other way round the looser box takes the face (IoU 0.92) and the exact one comes
        # second: still one hit and one late false positive.
        images = [image([(0, 0, 10, 10, 0, False)], [(0, 0, 10, 11, 0, 0.9), (0, 0, 10, 10, 0, 0.5)])]
        self.assertEqual(ref.voc_ap(images, 0)[0], 1.0)
        # A false positive ranked above the only hit halves the precision there: AP 1/2.
        images = [image([(0, 0, 10, 10, 0, False)], [(40, 40, 50, 50, 0, 0.9), (0, 0, 10, 10, 0, 0.5)])]
        self.assertEqual(ref.voc_ap(images, 0)[0], 0.5)

    def test_overlaps_use_the_devkits_inclusive_pixels(self):
        # Inclusive: 2.8 x 4 of 4 x 4 boxes overlap, IoU 11.2 / 20.8 = 0.54. Continuous: 1.8 x 3 of
        # 3 x 3, IoU 5.4 / 12.6 = 0.43.
        images = [image([(0, 0, 3, 3, 0, False)], [(1.2, 0, 4.2, 3, 0, 0.9)])]
        self.assertEqual(ref.voc_ap(images, 0)[0], 1.0)
        self.assertEqual(ref.voc_ap(images, 0, inclusive=False)[0], 0.0)

    def test_difficult_ground_truth_is_neither_counted_nor_punished(self):
        images = [image([(0, 0, 10, 10, 0, False), (50, 50, 70, 70, 0, True)],
                        [(50, 50, 70, 70, 0, 0.95), (0, 0, 10, 10, 0, 0.6)])]
        ap, num_gt, _ = ref.voc_ap(images, 0)
        self.assertEqual((ap, num_gt), (1.0, 1))
        self.assertAlmostEqual(float(ref.coco_precision(images, 0).mean()), 1.0, places=12)

    def test_no_ground_truth_leaves_the_class_out_of_the_mean(self):
        images = [image([(0, 0, 10, 10, 0, False)], [(0, 0, 10, 10, 0, 0.9), (20, 20, 30, 30, 1, 0.8)])]
        result = ref.evaluate(images, CLASSES)
        self.assertIsNone(result["per_class"]["noMask"]["ap50"])
        self.assertEqual(result["per_class"]["noMask"]["num_det"], 1)
        self.assertEqual(result["map50"], 1.0)

    def test_class_agnostic_ap_counts_faces_whatever_their_class(self):
        # Image 1: a mask face detected as noMask; image 2: a noMask face detected as noMask, and as
        # mask with a lower score (one NMS over all classes removes that one).
        images = [image([(0, 0, 40, 40, 0, False)], [(0, 0, 40, 40, 1, 0.9)]),
                  image([(10, 10, 60, 60, 1, False)], [(10, 10, 60, 60, 1, 0.8), (11, 10, 60, 61, 0, 0.3)])]
        result = ref.evaluate(images, CLASSES)
        # mask: its one detection (0.3) misses; noMask: FP at 0.9, TP at 0.8 -> AP 1/2.
        self.assertEqual(result["per_class"]["mask"]["ap50"], 0.0)
        self.assertEqual(result["per_class"]["noMask"]["ap50"], 0.5)
        self.assertEqual(result["map50"], 0.25)
        self.assertEqual(result["agnostic_ap50"], 1.0)
        self.assertAlmostEqual(result["agnostic_ap"], 1.0, places=12)
        merged = ref.class_agnostic(images)
        self.assertEqual([len(m["detections"]) for m in merged], [1, 1])

    def test_matches_the_pycocotools_and_devkit_fixture(self):
        with open(os.path.join(ROOT, "tests", "eval", "data", "eval_case.json")) as f:
            case = json.load(f)

        def number(v):
            return float(v) if isinstance(v, str) else v

        images = [image([tuple(number(v) for v in g[:4]) + (g[4], bool(g[5])) for g in im["ground_truth"]],
                        [tuple(number(v) for v in d[:4]) + (d[4], number(d[5])) for d in im["detections"]])
                  for im in case["images"]]
        expected = case["expected"]
        for k, name in enumerate(case["classes"]):
            for convention, inclusive in (("inclusive", True), ("continuous", False)):
                want = expected["voc"][convention]["per_class"][name]
                ap, num_gt, num_det = ref.voc_ap(images, k, inclusive=inclusive)
                self.assertAlmostEqual(ap, number(want["ap50"]), places=12, msg=f"{name} VOC {convention}")
                self.assertEqual((num_gt, num_det), (want["num_gt"], want["num_det"]))
            table = ref.coco_precision(images, k)
            want = expected["coco"]["per_class"][name]
            self.assertAlmostEqual(float(table.mean()), number(want["ap"]), places=12, msg=f"{name} COCO AP")
            self.assertAlmostEqual(float(table[0].mean()), number(want["ap50"]), places=12)
            self.assertAlmostEqual(float(table[5].mean()), number(want["ap75"]), places=12)
        result = ref.evaluate(images, case["classes"])
        self.assertAlmostEqual(result["map"], number(expected["coco"]["map"]), places=12)
        self.assertAlmostEqual(result["map50"], number(expected["voc"]["inclusive"]["map50"]), places=12)


def fake_backbone_state():
    """A randomly initialised torchvision MobileNetV2 state dict (BatchNorm: with
    num_batches_tracked), the layout of the real ImageNet file."""
    torch.manual_seed(3)
    return torchvision.models.mobilenet_v2(weights=None).state_dict()


class Options:
    trainable_backbone_layers = 3
    fpn_channels = 64
    image_min_side = 256
    image_max_side = 384
    scale_jitter = (1.0, 1.0)


class WeightsAndModelTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.TemporaryDirectory()
        cls.state = fake_backbone_state()
        cls.pth = os.path.join(cls.folder.name, "mobilenet_v2.pth")
        torch.save(cls.state, cls.pth)
        cls.safetensors = os.path.join(cls.folder.name, "mobilenet_v2.safetensors")
        write_safetensors(cls.safetensors, cls.state)

    @classmethod
    def tearDownClass(cls):
        cls.folder.cleanup()

    def check_loaded(self, path):
        model, summary = ref.build_model(2, Options(), path, random.Random(0))
        body = model.backbone.body.state_dict()
        features = {k[len("features."):]: v for k, v in self.state.items()
                    if k.startswith("features.") and not k.endswith("num_batches_tracked")}
        self.assertEqual(set(body), set(features), "every backbone tensor comes from the file and no other")
        for key, tensor in features.items():
            self.assertTrue(torch.equal(body[key], tensor), key)
        self.assertEqual(summary["backbone_tensors"], len(features))
        self.assertEqual(summary["frozen_blocks"], "features.0-6")
        return model

    def test_pth_and_safetensors_load_every_backbone_key(self):
        self.check_loaded(self.pth)
        self.check_loaded(self.safetensors)

    def test_a_missing_or_foreign_key_is_refused(self):
        for change, words in (("missing", "missing"), ("foreign", "not MobileNetV2's")):
            state = dict(self.state)
            if change == "missing":
                del state["features.5.conv.1.0.weight"]
            else:
                state["fc.weight"] = torch.zeros(2, 2)
            path = os.path.join(self.folder.name, f"{change}.safetensors")
            write_safetensors(path, state)
            with self.assertRaises(ref.WeightsError) as raised:
                ref.build_model(2, Options(), path, random.Random(0))
            self.assertIn(words, str(raised.exception))

    def test_real_imagenet_weights_when_present(self):
        path = ref.default_weights_path()
        if not os.path.isfile(path):
            self.skipTest(f"{path} is absent (scripts/fetch-weights.sh fetches it); the fake file stands in above")
        model, summary = ref.build_model(2, Options(), path, random.Random(0))
        self.assertEqual(summary["backbone_tensors"], len(model.backbone.body.state_dict()))

    def test_layout_is_maskdets(self):
        model = self.check_loaded(self.safetensors)
        trainable = {name.split(".")[2] for name, p in model.backbone.body.named_parameters(prefix="backbone.body")
                     if p.requires_grad}
        self.assertEqual(trainable, {str(i) for i in range(7, 19)}, "torchvision's rule: the last 3 stages train")
        starts = ref.mobilenet_v2_stage_starts(torchvision.models.mobilenet_v2().features)
        self.assertEqual(starts, [0, 2, 4, 7, 14, 18])
        self.assertFalse(any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules()))
        fpn = model.backbone.fpn
        self.assertEqual([block[0].in_channels for block in fpn.inner_blocks], [32, 96, 1280])
        self.assertEqual(fpn.layer_blocks[0][0].out_channels, 64)
        self.assertTrue(fpn.extra_blocks.use_P5, "P6 from P5")
        norms = [m for m in model.head.modules() if isinstance(m, torch.nn.GroupNorm)]
        self.assertEqual(len(norms), 8)
        self.assertTrue(all(m.num_groups == 32 for m in norms))
        self.assertEqual(model.anchor_generator.num_anchors_per_location(), [9] * 5)
        self.assertEqual(model.head.classification_head.num_classes, 2)
        self.assertEqual((model.score_thresh, model.nms_thresh, model.detections_per_img, model.topk_candidates),
                         (0.05, 0.5, 300, 1000))
        model.eval()
        with torch.no_grad():
            levels = model.backbone(torch.zeros(1, 3, 256, 320))
        self.assertEqual([tuple(v.shape[-2:]) for v in levels.values()], [(32, 40), (16, 20), (8, 10), (4, 5), (2, 3)])

    def test_schedule_warms_up_then_follows_the_cosine(self):
        self.assertAlmostEqual(ref.warmup_factor(0, 60), 1e-3)
        self.assertAlmostEqual(ref.warmup_factor(30, 60), 1e-3 + (1 - 1e-3) / 2)
        self.assertEqual(ref.warmup_factor(60, 60), 1.0)
        self.assertEqual(ref.warmup_factor(5, 0), 1.0)
        self.assertEqual(ref.cosine_factor(0), 1.0)
        self.assertAlmostEqual(ref.cosine_factor(0.5), 0.5)
        self.assertEqual(ref.cosine_factor(1.5), 0.0)


class AugmentTest(unittest.TestCase):
    def crop_sizes(self, crop_min_fraction):
        """(width, height) of 200 augmented 200x100 images with one box in the middle."""
        from types import SimpleNamespace
        options = SimpleNamespace(crop_min_fraction=crop_min_fraction, zoom_out=0.0, zoom_out_max=3.0)
        rng = random.Random(3)
        pixels = torch.zeros(3, 100, 200, dtype=torch.uint8)
        boxes, labels = torch.tensor([[90.0, 40.0, 110.0, 60.0]]), torch.tensor([1])
        sizes = []
        for _ in range(200):
            image, kept, _ = ref.augment(pixels, boxes, labels, options, rng)
            self.assertEqual(len(kept), 1, "the crop keeps every box centre")
            sizes.append((image.shape[2], image.shape[1]))
        return sizes

    def test_the_crop_follows_crop_min_fraction_as_maskdets(self):
        self.assertEqual(set(self.crop_sizes(1.0)), {(200, 100)})
        widths = [w for w, _ in self.crop_sizes(0.6)]
        self.assertGreaterEqual(min(widths), 120)
        self.assertLess(min(w for w, _ in self.crop_sizes(0.3)), 120)
        self.assertEqual(compare.MIRRORED["crop-min-fraction"], "--crop-min-fraction")


def write_synthetic_voc(folder, count, seed):
    """count small photos of one or two coloured "faces" with VOC annotations."""
    rng = random.Random(seed)
    os.makedirs(os.path.join(folder, "images"))
    os.makedirs(os.path.join(folder, "annotations"))
    names = []
    for i in range(count):
        width, height = rng.randint(110, 140), rng.randint(80, 100)
        picture = Image.new("RGB", (width, height), (rng.randint(0, 80),) * 3)
        draw = ImageDraw.Draw(picture)
        objects = []
        for _ in range(rng.randint(1, 2)):
            w, h = rng.randint(30, 50), rng.randint(30, 50)
            x, y = rng.randint(0, width - w - 1), rng.randint(0, height - h - 1)
            name = rng.choice(CLASSES)
            draw.ellipse([x, y, x + w, y + h], fill=(230, 190, 160))
            if name == "mask":
                draw.rectangle([x + w // 5, y + h // 2, x + 4 * w // 5, y + 4 * h // 5], fill=(40, 90, 220))
            objects.append(f"<object><name>{name}</name><difficult>0</difficult><bndbox><xmin>{x}</xmin>"
                           f"<ymin>{y}</ymin><xmax>{x + w}</xmax><ymax>{y + h}</ymax></bndbox></object>")
        name = f"{i}.jpg"
        picture.save(os.path.join(folder, "images", name), quality=90)
        with open(os.path.join(folder, "annotations", f"{i}.xml"), "w") as f:
            f.write(f"<annotation><filename>{name}</filename><size><width>{width}</width><height>{height}</height>"
                    f"<depth>3</depth></size>{''.join(objects)}</annotation>")
        names.append(os.path.join(folder, "images", name))
    return names


REQUIRED_KEYS = {"per_class", "map50", "map", "agnostic_ap50", "train_seconds", "steps", "epochs",
                 "train_images_per_second", "inference_ms_per_image", "inference_ms_per_image_batched", "threads",
                 "config", "classes", "num_train_images", "num_val_images", "weights", "loss_log"}


class EndToEndTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.TemporaryDirectory()
        root = cls.folder.name
        cls.data = os.path.join(root, "voc")
        images = write_synthetic_voc(cls.data, 7, seed=5)
        cls.split = os.path.join(root, "run", "snapshots")
        os.makedirs(cls.split)
        # Train lines as maskdet writes them (paths), validation lines by file name only.
        with open(os.path.join(cls.split, "train_images.txt"), "w") as f:
            f.write("".join(p + "\n" for p in images[:4]))
        with open(os.path.join(cls.split, "val_images.txt"), "w") as f:
            f.write("".join(os.path.basename(p) + "\n" for p in images[4:]))
        cls.weights = os.path.join(root, "backbone.safetensors")
        write_safetensors(cls.weights, fake_backbone_state())
        torch.set_num_threads(1)

    @classmethod
    def tearDownClass(cls):
        cls.folder.cleanup()

    def run_reference(self, *flags):
        out = os.path.join(self.folder.name, "results.json")
        if os.path.exists(out):
            os.remove(out)
        printed = io.StringIO()
        with redirect_stdout(printed):
            status = ref.main(["--data", self.data, "--split", self.split, "--weights", self.weights, "--threads", "1",
                               "--image-min-side", "64", "--image-max-side", "96", "--batch-size", "2",
                               "--warmup-steps", "1", "--log-every", "1", "--out", out] + list(flags))
        self.assertEqual(status, 0)
        with open(out) as f:
            return json.load(f), printed.getvalue()

    def test_one_epoch_gives_every_figure(self):
        result, printed = self.run_reference("--epochs", "1")
        self.assertLessEqual(REQUIRED_KEYS, set(result))
        self.assertEqual(result["classes"], CLASSES)
        self.assertEqual((result["num_train_images"], result["num_val_images"]), (4, 3))
        self.assertEqual((result["steps"], result["epochs"]), (2, 1.0))
        self.assertEqual(set(result["per_class"]), set(CLASSES))
        for value in (result["map50"], result["map"], result["agnostic_ap50"]):
            self.assertTrue(value is None or 0 <= value <= 1, value)
        self.assertGreater(result["train_images_per_second"], 0)
        self.assertGreater(result["inference_ms_per_image"], 0)
        self.assertEqual(result["threads"], 1)
        self.assertEqual(result["config"]["image_min_side"], 64)
        self.assertAlmostEqual(result["final_lr"], 1e-3 * ref.cosine_factor(1 / 2), places=15)
        self.assertEqual(len(result["loss_log"]), 2)
        self.assertTrue(all(math.isfinite(e["loss"]) for e in result["loss_log"]))
        self.assertIn("mean", printed)

    def test_a_budget_is_kept_and_the_lr_follows_elapsed_time(self):
        result, _ = self.run_reference("--budget-seconds", "2.5", "--no-augment")
        self.assertGreaterEqual(result["steps"], 1)
        # Stops before a step predicted to end past the budget: over it by at most one step's spread.
        one_step = result["train_seconds"] / result["steps"]
        self.assertLess(result["train_seconds"], 2.5 + one_step)
        # After the one warm-up step the lr only falls, as the elapsed share of the budget grows.
        lrs = [e["lr"] for e in result["loss_log"]]
        self.assertAlmostEqual(lrs[0], 1e-3 * ref.WARMUP_START_FACTOR, places=15)
        self.assertEqual(lrs[1:], sorted(lrs[1:], reverse=True))
        self.assertLess(result["final_lr"], 1e-3)

    def test_ema_and_flip_test_add_their_figures(self):
        result, printed = self.run_reference("--epochs", "1", "--ema", "0.9", "--flip-test")
        for name in ("trained_weights", "flip_test"):
            self.assertIn(name, result)
            self.assertEqual(set(result[name]["per_class"]), set(CLASSES))
            self.assertTrue(result[name]["map50"] is None or 0 <= result[name]["map50"] <= 1)
            self.assertIn(f"{name}: mAP@0.5", printed)
        self.assertIn("scoring the weights' moving average (--ema 0.9, 2 updates)", printed)

    def test_weight_average_follows_maskdets_recurrence(self):
        model = torch.nn.BatchNorm1d(2)  # float weights and buffers, an integer num_batches_tracked
        average = ref.WeightAverage(model, 0.9)
        expected = model.weight.detach().clone().double()
        for step in range(5):
            with torch.no_grad():
                model.weight.fill_(step + 1.0)
                model.num_batches_tracked.fill_(step + 1)
            d = min(0.9, (1 + step) / (10 + step))
            expected = d * expected + (1 - d) * (step + 1.0)
            average.update(model)
        self.assertTrue(torch.allclose(average.averages["weight"].double(), expected, rtol=1e-6))
        self.assertEqual(int(average.averages["num_batches_tracked"]), 5)

    def test_flip_test_mirrors_the_second_pass_back(self):
        class Fixed(torch.nn.Module):
            """One box, at the left of the image as given: mirrored, it is at the right."""
            nms_thresh, detections_per_img = 0.5, 300

            def forward(self, images):
                image = images[0]
                left = bool(image[0, 0, 0] > image[0, 0, -1])
                box = [0.0, 0.0, 10.0, 10.0] if left else [image.shape[-1] - 10.0, 0.0, image.shape[-1], 10.0]
                return [{"boxes": torch.tensor([box]), "scores": torch.tensor([0.9 if left else 0.8]),
                         "labels": torch.tensor([0])}]

        image = torch.zeros(3, 20, 50)
        image[:, :, :10] = 1  # bright at the left
        model = Fixed()
        merged = ref.flip_merged(model, image, model([image])[0])
        # The mirrored image is bright at the right, its box there; mirrored back it is the first box.
        self.assertEqual(merged["boxes"].tolist(), [[0.0, 0.0, 10.0, 10.0]])
        self.assertEqual(merged["scores"].tolist(), [0.8999999761581421])

    def test_scoring_maskdets_detections(self):
        val = [os.path.join(self.data, "images", f"{i}.jpg") for i in (4, 5, 6)]
        lines = []
        records, classes = ref.read_voc_folder(self.data)
        for record in records:
            if record["path"] in val:
                for name, x1, y1, x2, y2, _ in record["objects"]:
                    lines.append({"image": record["path"], "class": name, "score": 0.9, "box": [x1, y1, x2, y2]})
        lines.append({"image": os.path.join(self.data, "images", "0.jpg"), "class": "mask", "score": 0.99,
                      "box": [0, 0, 5, 5]})  # a training image: not scored
        jsonl = os.path.join(self.folder.name, "detections.jsonl")
        with open(jsonl, "w") as f:
            f.write("".join(json.dumps(line) + "\n" for line in lines))
        out = os.path.join(self.folder.name, "rescored.json")
        with redirect_stdout(io.StringIO()):
            ref.main(["--data", self.data, "--split", self.split, "--evaluate-detections", jsonl, "--out", out])
        with open(out) as f:
            result = json.load(f)
        self.assertEqual(result["agnostic_ap50"], 1.0)
        for name, c in result["per_class"].items():
            self.assertIn(c["ap50"], (1.0, None), name)

    def test_compare_reads_a_maskdet_run_and_prints_both_columns(self):
        run = os.path.dirname(self.split)
        config = {"data": self.data, "image-min-side": "64.000000", "image-max-side": "96", "batch-size": "2",
                  "lr": "0.001", "backbone-lr-factor": "0.1", "weight-decay": "0.0001", "warmup-steps": "1",
                  "clip-grad-norm": "10", "seed": "1", "scale-jitter": "0.8,1.2", "zoom-out": "0",
                  "zoom-out-max": "3", "fpn-channels": "64", "random-transform": "true", "backbone": "mobilenet_v2",
                  "optimizer": "adamw", "lr-schedule": "cosine", "head-depth": "4", "head-group-norm": "true",
                  "anchor-sizes": "32,64,128,256,512", "inference-min-side": "0", "inference-max-side": "0",
                  "trainable-backbone-layers": "-1", "weights": "imagenet", "norm": "auto"}
        write_safetensors(os.path.join(self.split, "epoch_002.safetensors"), {"x": torch.zeros(1)},
                          {"config": json.dumps(config), "format": "maskdet-snapshot"})
        with open(os.path.join(self.split, "epochs.jsonl"), "w") as f:
            f.write(json.dumps({"epoch": 1, "step": 2, "seconds": 0.75, "images_per_second": 4.0}) + "\n")
            f.write(json.dumps({"epoch": 2, "step": 4, "seconds": 1.25, "images_per_second": 8.0}) + "\n")
        os.makedirs(os.path.join(run, "evaluation"), exist_ok=True)
        with open(os.path.join(run, "evaluation", "results.json"), "w") as f:
            json.dump({"per_class": {"mask": {"ap50": 0.5}, "noMask": {"ap50": 0.25}}, "map50": 0.375, "map": 0.2,
                       "seconds_per_image": 0.012}, f)

        info = compare.read_maskdet_run(run)
        self.assertEqual(info["train_seconds"], 2.0)
        self.assertEqual(info["train_images_per_second"], (0.75 * 4 + 1.25 * 8) / 2.0)
        flags, differences = compare.reference_flags(info["config"], full=False)
        self.assertEqual(flags[flags.index("--image-min-side") + 1], "64")
        self.assertEqual(flags[flags.index("--lr") + 1], "0.001")
        self.assertEqual(flags[flags.index("--trainable-backbone-layers") + 1], "3")
        self.assertEqual(differences,
                         ["the reference's augmentation leaves out maskdet's small rotation and translation"])
        ema_flags = compare.reference_flags(dict(config, ema="0.999"), False)[0]
        self.assertEqual(ema_flags[ema_flags.index("--ema") + 1], "0.999")
        flipped = {"per_class": {"mask": {"ap50": 0.75}, "noMask": {"ap50": 0.5}}, "map50": 0.625, "map": 0.3}
        rows = compare.variant_rows({"flip_test": flipped}, {}, CLASSES)
        self.assertIn(("  mAP@0.5", "0.6250", "-"), rows)
        self.assertIn(("  AP@0.5 mask", "0.7500", "-"), rows)
        self.assertEqual(compare.variant_rows({}, {}, CLASSES), [])
        sgd = dict(config, optimizer="sgd")
        self.assertIn("maskdet ran with --optimizer sgd; the reference has adamw",
                      compare.reference_flags(sgd, False)[1])

        printed = io.StringIO()
        with redirect_stdout(printed):
            status = compare.main([run, "--threads", "1", "--no-maskdet-detect", "--python", sys.executable,
                                   "--", "--weights", self.weights])
        self.assertEqual(status, 0, printed.getvalue())
        text = printed.getvalue()
        for label in ("AP@0.5 mask", "AP@0.5 noMask", "mAP@0.5", "mAP@[.5:.95]", "face AP@0.5", "training images/s",
                      "ms/image"):
            self.assertIn(label, text)
        self.assertIn("0.3750", text)  # maskdet's mAP@0.5
        self.assertIn("12.0", text)    # its seconds_per_image in ms
        with open(os.path.join(run, "torchvision", "comparison.json")) as f:
            comparison = json.load(f)
        self.assertEqual(comparison["budget_seconds"], 2.0)
        self.assertLess(comparison["torchvision"]["train_seconds"], 2.0 + 2.0)
        with open(os.path.join(run, "torchvision", "results.json")) as f:
            self.assertEqual(json.load(f)["config"]["image_max_side"], 96)


if __name__ == "__main__":
    unittest.main(verbosity=2)
