// `maskdet train --weights imagenet` (the default for --backbone mobilenet_v2): the converted
// file is found in the cache folder (MASKDET_CACHE_DIR), or fetched there by the fetch script
// when it is missing; a failing fetch is reported. A stand-in file with the ImageNet file's keys
// (maskdet's own MobileNetV2 classifier) and a stand-in script keep the test off the network.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "apps/data_io/synthetic_voc.h"
#include "cli/cli_test_util.h"
#include "data/data_test_util.h"
#include "retinanet/mobilenet_v2.h"
#include "tensor/safetensors.h"
#include "test_util.h"

namespace maskdet::cli_test {
namespace {

namespace fs = std::filesystem;

class PretrainedWeights : public data::test::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    data::write_synthetic_voc(path("voc"), 12, 3);
    // The layout of torchvision's mobilenet_v2 state dict, BatchNorm statistics included.
    MobileNetV2 classifier(BackboneConfig{.norm = NormLayer::BatchNorm, .arch = BackboneArch::MobileNetV2});
    save_safetensors(path("imagenet.safetensors"), classifier.state_dict());
  }
  std::string train(const std::string& run) const {
    return "train --data " + path("voc") + " --snapshot-path " + path(run) +
           " --backbone mobilenet_v2 --epochs 1 --steps 1 --batch-size 2 --image-min-side 64 --image-max-side 96 "
           "--no-evaluation";
  }
  std::string cached_file() const { return path("cache") + "/weights/mobilenet_v2_imagenet.safetensors"; }
  // A fetch script that "downloads" by copying the stand-in file, or fails.
  std::string script(const std::string& name, bool succeed) const {
    const std::string file = path(name);
    std::ofstream out(file);
    out << "#!/bin/bash\n[[ $1 == --out ]] || exit 9\n";
    if (succeed) out << "mkdir -p \"$(dirname \"$2\")\" && cp " << path("imagenet.safetensors") << " \"$2\"\n";
    else out << "echo 'pip: no network' >&2; exit 4\n";
    return file;
  }
};

TEST_F(PretrainedWeights, TheCachedFileLoadsAndTheFirstStagesStayFrozen) {
  fs::create_directories(path("cache") + "/weights");
  fs::copy_file(path("imagenet.safetensors"), cached_file());
  const CommandResult run = run_maskdet(train("run"), "MASKDET_CACHE_DIR=" + path("cache") + " MASKDET_FETCH_WEIGHTS=/none");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("ImageNet MobileNetV2 loaded into the backbone"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("of its first 3 of 6 stages frozen"), std::string::npos) << run.output;
  // The stem is in a frozen stage: the snapshot holds the file's weights unchanged.
  const auto imagenet = load_safetensors(path("imagenet.safetensors"));
  const auto snapshot = load_safetensors(path("run") + "/epoch_001.safetensors");
  EXPECT_TRUE(test::tensors_near(snapshot.at("model.backbone.body.0.0.weight"), imagenet.at("features.0.0.weight"), 0.0));
}

TEST_F(PretrainedWeights, AMissingFileIsFetchedOnce) {
  const std::string env = "MASKDET_CACHE_DIR=" + path("cache") + " MASKDET_FETCH_WEIGHTS=" + script("fetch.sh", true);
  const CommandResult first = run_maskdet(train("first"), env);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("is not there yet; fetching it"), std::string::npos) << first.output;
  EXPECT_TRUE(fs::exists(cached_file()));
  const CommandResult second = run_maskdet(train("second"), env);
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_EQ(second.output.find("fetching"), std::string::npos) << second.output;
}

TEST_F(PretrainedWeights, AFailedFetchSaysSoAndHowToGoOn) {
  const std::string env = "MASKDET_CACHE_DIR=" + path("cache") + " MASKDET_FETCH_WEIGHTS=" + script("fail.sh", false);
  const CommandResult run = run_maskdet(train("run"), env);
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("pip: no network"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("failed (exit status 4)"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("--weights FILE"), std::string::npos) << run.output;
  EXPECT_FALSE(fs::exists(path("run") + "/epoch_001.safetensors"));
}

TEST_F(PretrainedWeights, ImagenetIsRefusedForAResNet) {
  const CommandResult run = run_maskdet("train --data " + path("voc") + " --backbone resnet18 --weights imagenet");
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("--weights imagenet is torchvision's MobileNetV2"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace maskdet::cli_test
