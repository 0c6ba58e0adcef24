// Faces of 14-30 px, as in a photo of a shop entrance: the synthetic face-mask set drawn with
// small faces, a detector trained on it through the `maskdet` program with anchors from 16 px
// at P3 and images at their own size, and `maskdet evaluate`'s recall by COCO box size (issue
// 11, "faces of every size"). Why these settings: with the paper's anchors (32 px at P3) a 16 px
// face overlaps its best anchor at IoU 0.25, under the matcher's 0.5 foreground bound, so it
// learns only through the low-quality fallback; the main job's 256 px resize would shrink it
// further.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include "apps/data_io/synthetic_voc.h"
#include "apps/maskdet/dataset_split.h"
#include "cli/cli_test_util.h"
#include "data/data_test_util.h"

namespace maskdet::cli_test {
namespace {

namespace fs = std::filesystem;

constexpr size_t kImages = 128;
// Measured on 2 cores shared with another training run (AMD EPYC, 2026-12-07): small AR@100 0.599
// (91 small and 10 medium boxes in the validation quarter), mAP@0.5 0.521, training 301 s; at half
// size 0.062 without the small-face pass and 0.551 with it. (160 images and 6 epochs gave 0.592.)
constexpr double kMinSmallRecall = 0.3;

class SmallFaces : public data::test::TempDirTest {};

TEST_F(SmallFaces, AreFoundWithSmallAnchorsAndReportedBySize) {
  data::SyntheticOptions options;
  options.min_faces = 2;
  options.max_faces = 4;
  options.min_face_fraction = 0.06;  // of the 240 px shorter side: faces 14-29 px wide
  options.max_face_fraction = 0.12;
  const std::string voc = path("voc"), snapshots = path("snapshots"), evaluation = path("evaluation");
  data::write_synthetic_voc(voc, kImages, 11, options);

  const CommandResult train = run_maskdet(
      "train --data " + voc + " --snapshot-path " + snapshots +
      " --backbone resnet18 --anchor-sizes 16,32,64,128,256 --image-min-side 240 --image-max-side 320"
      " --epochs 5 --warmup-steps 40 --val-fraction 0.25 --seed 1 --no-evaluation");
  ASSERT_EQ(train.exit_code, 0) << train.output;

  const CommandResult evaluate =
      run_maskdet("evaluate --snapshot " + snapshots + " --data " + voc + " --val-fraction 0.25 --seed 1"
                  " --min-face 0 --out " + evaluation);  // the model alone, at the size it trained on
  ASSERT_EQ(evaluate.exit_code, 0) << evaluate.output;
  EXPECT_NE(evaluate.output.find("box size"), std::string::npos) << evaluate.output;
  EXPECT_NE(evaluate.output.find("small"), std::string::npos) << evaluate.output;

  // The overall figures come after per_class, so the last "small" is the mean over classes.
  const std::string results = read_file(evaluation + "/results.json");
  const size_t small = results.rfind("\"small\": ");
  ASSERT_NE(small, std::string::npos) << results;
  const double num_small = json_number(results, "num_gt", small);
  const double small_recall = json_number(results, "ar", small);
  const size_t medium = results.find("\"medium\": ", small);
  const double num_medium = json_number(results, "num_gt", medium);
  std::printf("[small faces] trained in %.0f s; %g small and %g medium boxes; small AR@100 %.3f, mAP@0.5 %.3f\n",
              train.seconds, num_small, num_medium, small_recall, json_number(results, "map50"));
  EXPECT_GT(num_small, 3 * num_medium) << "the set is meant to be mostly small faces\n" << results;
  EXPECT_GT(small_recall, kMinSmallRecall) << evaluate.output;

  // The small-face pass: inference at half the training size shrinks the faces to 7-15 px and
  // recall falls; with 16 px anchors the pass brings --min-face to 24 px, so --min-face 24
  // enlarges those images back to the training size, and recall comes back.
  auto small_recall_at_half_size = [&](const std::string& min_face, const std::string& out) {
    const CommandResult run = run_maskdet("evaluate --snapshot " + snapshots + " --data " + voc +
                                          " --val-fraction 0.25 --seed 1 --image-min-side 120 --image-max-side 160"
                                          " --min-face " + min_face + " --out " + path(out));
    EXPECT_EQ(run.exit_code, 0) << run.output;
    const std::string json = read_file(path(out) + "/results.json");
    return std::pair{json_number(json, "ar", json.rfind("\"small\": ")), run.output};
  };
  const auto [without_pass, without_output] = small_recall_at_half_size("0", "half");
  const auto [with_pass, with_output] = small_recall_at_half_size("24", "half_with_pass");
  std::printf("[small faces] at half size: small AR@100 %.3f without the small-face pass, %.3f with --min-face 24\n",
              without_pass, with_pass);
  EXPECT_EQ(without_output.find("small-face pass:"), std::string::npos) << without_output;
  const std::string validation_images = std::to_string(app::split_dataset(kImages, 0.25, 1).validation.size());
  const std::string all_enlarged =
      "small-face pass: " + validation_images + " of " + validation_images + " images also run enlarged";
  EXPECT_NE(with_output.find(all_enlarged), std::string::npos) << with_output;
  EXPECT_GT(with_pass, without_pass + 0.1) << with_output;
  EXPECT_GT(with_pass, 0.8 * small_recall) << with_output;
}

}  // namespace
}  // namespace maskdet::cli_test
