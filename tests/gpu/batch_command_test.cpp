// `iclcert batch` end to end through its CLI11 registration: the JSON it writes,
// and bad input (InputError / std::invalid_argument: exit 2 in main.cpp).
#include "cli/batch_command.hpp"
#include "gpu/batch_backend.hpp"
#include "io/input_error.hpp"
#include "io/json_reader.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace iclcert::cli {
namespace {

namespace fs = std::filesystem;

int run(std::vector<std::string> args) {
  CLI::App app;
  auto action = register_batch(app);
  args.insert(args.begin(), "batch");
  std::reverse(args.begin(), args.end());  // CLI11 parses a reversed vector
  app.parse(args);
  return action();
}

fs::path temp(const std::string& name) { return fs::temp_directory_path() / ("iclcert_batch_test_" + name); }

Json read_json(const fs::path& p) {
  std::ifstream f(p);
  return Json::parse(f);
}

TEST(BatchCommand, SampledBatchWritesPredictionsAccuracyLayersAndValidation) {
  const fs::path out = temp("sampled.json");
  EXPECT_EQ(run({"--sample", "3,3,10", "--prompts", "40", "--seed", "7", "--validate", "5", "--device", "auto",
                 "--threads", "2", "--chunk", "16", "--json", out.string(), "--no-progress"}),
            0);
  const Json j = read_json(out);
  EXPECT_EQ(j["format"], 1);
  ASSERT_EQ(j["predictions"].size(), 40u);
  for (const auto& p : j["predictions"]) EXPECT_TRUE(p.get<int>() >= 0 && p.get<int>() < 3);
  EXPECT_EQ(j["layers"].size(), 7u);  // the embedded default model has 6 layers
  EXPECT_EQ(j["validation"]["prompts"], 5);
  EXPECT_EQ(j["validation"]["certified"], true);
  EXPECT_EQ(j["validation"]["layers"][0]["values"], 5 * 11 * 6);
  const double acc = j["accuracy"].get<double>();  // a JSON number
  EXPECT_GT(acc, 0.3);
  EXPECT_LE(acc, 1.0);
  // The same command again: identical predictions (determinism).
  const fs::path again = temp("again.json");
  EXPECT_EQ(run({"--sample", "3,3,10", "--prompts", "40", "--seed", "7", "--threads", "1", "--json",
                 again.string(), "--no-progress"}),
            0);
  EXPECT_EQ(read_json(again)["predictions"], j["predictions"]);
  fs::remove(out);
  fs::remove(again);
}

TEST(BatchCommand, BatchFileRunsInFloat64) {
  const fs::path in = temp("prompts.json"), out = temp("file.json");
  {
    std::ofstream f(in);
    f << R"({"format": 1, "prompts": [
      {"format": 1, "d": 2, "C": 2, "N": 3, "X": [["1", "0"], ["0", "1"], ["1", "1/2"]], "labels": [0, 1, 0],
       "probe": ["0.9", "0.1"], "probe_label": 0},
      {"format": 1, "d": 2, "C": 2, "N": 3, "X": [["-1", "0"], ["0", "-1"], ["1", "2"]], "labels": [0, 1, 1],
       "probe": ["0", "-0.8"], "probe_label": 1}]})";
  }
  EXPECT_EQ(run({"--prompt-file", in.string(), "--arith", "float64", "--device", "cpu", "--validate", "all",
                 "--json", out.string(), "--no-progress"}),
            0);
  const Json j = read_json(out);
  EXPECT_EQ(j["predictions"], Json::parse("[0, 1]"));
  EXPECT_EQ(j["validation"]["prompts"], 2);
  fs::remove(in);
  fs::remove(out);
}

// Issue 16: a model whose float arithmetic overflows (coefficients of 1e300) used to
// exit 0 with max_abs_error "0". Now the run fails (exit 1) and says why.
TEST(BatchCommand, FloatOverflowInValidationFailsTheRunAndSaysSo) {
  const fs::path model = temp("huge_model.json"), out = temp("huge.json");
  {
    std::ofstream f(model);
    f << R"({"format": 1, "layers": [{"beta": "0", "gamma": "0", "alpha": "1e300", "alpha_label": "1e300"},
                                     {"beta": "0", "gamma": "0", "alpha": "1e300", "alpha_label": "1e300"}]})";
  }
  ::testing::internal::CaptureStdout();
  const int status = run({"--sample", "2,2,4", "--prompts", "3", "--model", model.string(), "--arith", "float64",
                          "--device", "cpu", "--validate", "all", "--json", out.string(), "--no-progress"});
  std::fflush(stdout);
  const std::string printed = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(status, 1) << printed;
  EXPECT_NE(printed.find("the float arithmetic overflowed"), std::string::npos) << printed;
  EXPECT_NE(printed.find("--arith mpfr:BITS or interval:BITS"), std::string::npos) << printed;
  const Json j = read_json(out);
  const Json& t2 = j["validation"]["layers"][2];
  EXPECT_EQ(t2["max_abs_error"], "inf");
  EXPECT_EQ(t2["beyond_bound"], t2["values"]);
  EXPECT_EQ(t2["non_finite"], t2["values"]);
  fs::remove(model);
  fs::remove(out);
}

TEST(BatchCommand, BadInputIsRejected) {
  EXPECT_THROW(run({"--sample", "3,3", "--prompts", "2"}), std::invalid_argument);
  EXPECT_THROW(run({"--sample", "3,3,10", "--arith", "float16"}), std::invalid_argument);
  EXPECT_THROW(run({"--sample", "3,3,10", "--device", "tpu"}), std::invalid_argument);
  EXPECT_THROW(run({"--sample", "3,3,10", "--validate", "some"}), std::invalid_argument);
  EXPECT_THROW(run({}), std::invalid_argument);
  EXPECT_THROW(run({"--prompt-file", "/nonexistent/prompts.json"}), InputError);
  // No GPU here: --device cuda is a usage error, not a silent fallback.
  std::string why;
  if (gpu::cuda_device_count(why) == 0) {
    EXPECT_THROW(run({"--sample", "3,3,10", "--device", "cuda"}), std::invalid_argument);
  }
  // Prompts of different sizes in one batch.
  const fs::path in = temp("mixed.json");
  {
    std::ofstream f(in);
    f << R"({"format": 1, "prompts": [
      {"format": 1, "d": 1, "C": 2, "N": 1, "X": [["1"]], "labels": [0], "probe": ["1"]},
      {"format": 1, "d": 1, "C": 2, "N": 2, "X": [["1"], ["2"]], "labels": [0, 1], "probe": ["1"]}]})";
  }
  EXPECT_THROW(run({"--prompt-file", in.string()}), InputError);
  fs::remove(in);
}

// --certify: every prompt's status, certified and float predictions, flip and margin
// enclosure; a certified margin's enclosure is positive and its prediction, here
// where float32 does not flip, the float one. --certify with --validate is refused.
TEST(BatchCommand, CertifyWritesEveryPromptsStatus) {
  const fs::path out = temp("certify.json");
  EXPECT_EQ(run({"--sample", "3,3,10", "--prompts", "25", "--seed", "4", "--certify", "--threads", "2", "--chunk", "8",
                 "--json", out.string(), "--no-progress"}),
            0);
  const Json j = read_json(out);
  EXPECT_EQ(j["command"], "batch --certify");
  const Json& c = j["certification"];
  ASSERT_EQ(c["per_prompt"].size(), 25u);
  EXPECT_EQ(c["certified"].get<long>() + c["escalated"].get<long>() + c["undecided"].get<long>(), 25);
  EXPECT_EQ(c["flips"], 0);
  EXPECT_EQ(c["decided_float64_by_depth"].size(), 7u);
  long certified = 0;
  for (const Json& p : c["per_prompt"]) {
    const double lo = std::stod(p["margin"][0].get<std::string>()), hi = std::stod(p["margin"][1].get<std::string>());
    EXPECT_LE(lo, hi);
    if (p["status"] != "undecided") {
      ++certified;
      EXPECT_GT(lo, 0);
      EXPECT_EQ(p["prediction"], p["float_prediction"]);
      EXPECT_FALSE(p["flipped"].get<bool>());
    }
  }
  EXPECT_GT(certified, 20);
  EXPECT_THROW(run({"--sample", "3,3,10", "--certify", "--validate", "2"}), std::invalid_argument);
  fs::remove(out);
}

}  // namespace
}  // namespace iclcert::cli
