// Issue 23 (hardening): the float batch path never answers from a number that is
// not finite, and no failure in a worker thread aborts the process.
//  - an input number beyond the run's float type (1e4000, -1e4000, 1e39 in float32)
//    is refused by `batch`, `batch --certify`, `compare` and `compare --certify`:
//    exit 2, one line naming the file and the field, no output file, and no word on
//    the backend before it;
//  - a float state that overflows during the run (finite input) leaves its
//    prediction undefined (null), with a line saying so and exit 1;
//  - the Arb escalation of a prompt whose enclosure is beyond 2^65536 (12 linear
//    layers) reports it (here certified, with an upper end of "+inf"), not an abort.
#include "support/cli_runner.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using Result = iclcert::testing::CliResult;
using iclcert::testing::iclcert;

// d = 1, C = 2, N = 1: x = 2, label 0, probe 1 with label 0.
const std::string kPrompt =
    R"({"d": 1, "C": 2, "N": 1, "X": [["2"]], "labels": [0], "probe": ["1"], "probe_label": 0})";

// Prompt 0 as above; prompt 1 the same with `value` at X[0][0] (or at probe[0]).
std::string batch_with(const std::string& value, bool in_probe = false) {
  const std::string bad = in_probe ? R"({"d": 1, "C": 2, "N": 1, "X": [["2"]], "labels": [0], "probe": [")" + value +
                                         R"("], "probe_label": 0})"
                                   : R"({"d": 1, "C": 2, "N": 1, "X": [[")" + value +
                                         R"("]], "labels": [0], "probe": ["1"], "probe_label": 0})";
  return R"({"format": 1, "prompts": [)" + kPrompt + ", " + bad + "]}";
}

// The issue's model: 12 identical linear layers (beta 1, gamma 0, alpha 1, alpha' 1).
// From x = 2 the state grows like 2^(3^t): beyond float32 at depth 5, float64 at 7,
// and 2^65536 (the exact endpoints' limit) by depth 12.
std::string twelve_layers() {
  std::string layers;
  for (int l = 0; l < 12; ++l)
    layers += std::string(l ? ", " : "") + R"({"beta": "1", "gamma": "0", "alpha": "1", "alpha_label": "1"})";
  return R"({"format": 1, "kernel": "linear", "layers": [)" + layers + "]}";
}

using iclcert::testing::error_lines;

Json read_json(const std::string& path) {
  std::ifstream in(path);
  return Json::parse(in);
}

class FloatInput : public iclcert::testing::CliTest {
 protected:
  std::string model() const { return std::string(ICLCERT_SOURCE_DIR) + "/examples/default_model.json"; }

  // Exit 2, exactly one error line (the whole output: nothing on the backend or the
  // run before it) naming the file, the field and the value, and no output file.
  void expect_refused(const std::string& args, const std::string& file, const std::string& field,
                      const std::string& what) {
    SCOPED_TRACE(args);
    const std::string out = path("out.json");
    const Result r = iclcert(args + " --no-progress --json " + out);
    EXPECT_EQ(r.status, 2) << r.output;
    const auto lines = error_lines(r.output);
    ASSERT_EQ(lines.size(), 1u) << r.output;
    EXPECT_EQ(r.output, lines[0] + "\n") << "only the error line";
    EXPECT_LE(lines[0].size(), 160 + file.size()) << lines[0];
    EXPECT_NE(lines[0].find(file + ": field " + field + ": " + what), std::string::npos) << lines[0];
    EXPECT_FALSE(fs::exists(out)) << "no output file";
  }
};

TEST_F(FloatInput, BatchRefusesANumberBeyondTheFloatTypeInEveryMode) {
  const std::string big = write("big.json", batch_with("1e4000"));
  const std::string negative = write("negative.json", batch_with("-1e4000"));
  for (const std::string mode : {"", " --certify", " --certify --no-escalate", " --final-only", " --validate 2"}) {
    expect_refused("batch --threads 1 --prompt-file " + big + mode, big, "prompts[1].X[0][0]",
                   "about 1e+4000 is not a finite float32 (it rounds to infinity)");
    expect_refused("batch --threads 1 --arith float64 --prompt-file " + negative + mode, negative,
                   "prompts[1].X[0][0]", "about -1e+4000 is not a finite float64");
  }
}

TEST_F(FloatInput, BeyondFloat32IsRefusedThereAndRunInFloat64) {
  const std::string f = write("f32.json", batch_with("1e39", true));
  expect_refused("batch --threads 1 --prompt-file " + f, f, "prompts[1].probe[0]",
                 "about 1e+39 is not a finite float32");
  expect_refused("batch --threads 1 --certify --prompt-file " + f, f, "prompts[1].probe[0]",
                 "about 1e+39 is not a finite float32");
  const Result r = iclcert("batch --threads 1 --arith float64 --no-progress --prompt-file " + f + " --json " +
                           path("out.json"));
  EXPECT_EQ(r.status, 0) << r.output;
  const Json j = read_json(path("out.json"));
  ASSERT_EQ(j["predictions"].size(), 2u);
  for (const Json& p : j["predictions"]) EXPECT_TRUE(p.is_number_integer()) << j["predictions"];
  EXPECT_EQ(j["undefined_predictions"], 0);
}

TEST_F(FloatInput, CompareRefusesANumberBeyondTheFloatType) {
  const std::string big = write("big.json", batch_with("1e4000"));
  const std::string negative = write("negative.json", batch_with("-1e4000"));
  const std::string models = " --model " + model() + " --against " + model();
  for (const std::string mode : {"", " --certify", " --validate 1"}) {
    expect_refused("compare --threads 1" + models + " --prompt-file " + big + mode, big, "prompts[1].X[0][0]",
                   "about 1e+4000 is not a finite float32");
    expect_refused("compare --threads 1" + models + " --prompt-file " + negative + mode, negative,
                   "prompts[1].X[0][0]", "about -1e+4000 is not a finite float32");
  }
}

// mpiexec -n 2: the same refusal, on every rank, and no output file.
TEST_F(FloatInput, RefusedUnderMpiexec) {
  if (std::system("command -v mpiexec > /dev/null 2>&1") != 0) GTEST_SKIP() << "no mpiexec";
  const std::string big = write("big.json", batch_with("1e4000"));
  const std::string env =
      "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader "
      "OMPI_MCA_btl_vader_single_copy_mechanism=none ";
  for (const std::string& mode : {"batch --prompt-file " + big, "batch --certify --prompt-file " + big,
                                 "compare --certify --model " + model() + " --against " + model() +
                                     " --prompt-file " + big}) {
    SCOPED_TRACE(mode);
    const std::string cmd = env + "mpiexec -n 2 " + ICLCERT_BINARY + " " + mode + " --threads 1 --no-progress --json " +
                            path("out.json") + " 2>&1";
    FILE* pipe = popen(cmd.c_str(), "r");
    std::string output;
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) output.append(buf, n);
    const int raw = pclose(pipe);
    EXPECT_TRUE(WIFEXITED(raw) && WEXITSTATUS(raw) == 2) << output;
    EXPECT_NE(output.find("prompts[1].X[0][0]: about 1e+4000 is not a finite float32"), std::string::npos) << output;
    EXPECT_EQ(output.find("terminate called"), std::string::npos) << output;
    EXPECT_FALSE(fs::exists(path("out.json")));
  }
}

// The issue's reproduction of the abort (exit 134): the 12-layer model. The Arb tier
// decides the prompt (its margin's lower end is beyond the largest double, its upper
// end "+inf"); the float32 state overflowed, so the float prediction is null and the
// run exits 1 with a line saying so.
TEST_F(FloatInput, ArbEscalationBeyondEveryExponentIsReportedNotAborted) {
  const std::string prompts = write("p.json", R"({"format": 1, "prompts": [)" + kPrompt + "]}");
  const std::string m = write("m12.json", twelve_layers());
  const Result r = iclcert("batch --threads 1 --no-progress --certify --prompt-file " + prompts + " --model " + m +
                           " --json " + path("out.json"));
  ASSERT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("escalated to Arb: 1 (certified there: 1); undecided: 0"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("1 float predictions are undefined (null): the float32 state overflowed"), std::string::npos)
      << r.output;
  const Json c = read_json(path("out.json"))["certification"];
  const Json& p = c["per_prompt"][0];
  EXPECT_EQ(p["status"], "escalated");
  EXPECT_EQ(p["prediction"], 0);
  EXPECT_TRUE(p["float_prediction"].is_null());
  EXPECT_FALSE(p["flipped"].get<bool>());
  EXPECT_EQ(p["margin"], Json::parse(R"(["1.7976931348623157e+308", "+inf"])"));
  EXPECT_EQ(c["float_undefined"], 1);
  EXPECT_EQ(c["flips"], 0);

  // Without escalation the float64 tier leaves it undecided, unbounded.
  const Result u = iclcert("batch --threads 1 --no-progress --certify --no-escalate --prompt-file " + prompts +
                           " --model " + m + " --json " + path("u.json"));
  ASSERT_EQ(u.status, 1) << u.output;
  const Json uj = read_json(path("u.json"));
  const Json& q = uj["certification"]["per_prompt"][0];
  EXPECT_EQ(q["status"], "undecided");
  EXPECT_EQ(q["margin"], Json::parse(R"(["-inf", "+inf"])"));

  // compare --certify on the same model: no abort either.
  const Result cmp = iclcert("compare --threads 1 --no-progress --no-baselines --certify --prompt-file " + prompts +
                             " --model " + m + " --against " + m + " --json " + path("c.json"));
  ASSERT_EQ(cmp.status, 1) << cmp.output;
  const Json cj = read_json(path("c.json"));
  EXPECT_EQ(cj["certify"]["a"]["per_prompt"][0]["status"], "escalated");
  EXPECT_EQ(cj["certify"]["certified_agree"], 1);
}

// A finite input whose float state overflows: no prediction is reported as one.
TEST_F(FloatInput, AnOverflowedStateHasNoPrediction) {
  const std::string prompts = write("p.json", R"({"format": 1, "prompts": [)" + kPrompt + "]}");
  const std::string m = write("m12.json", twelve_layers());
  for (const std::string arith : {"float32", "float64"})
    for (const std::string detail : {"", " --final-only"}) {
      SCOPED_TRACE(arith + detail);
      const Result r = iclcert("batch --threads 1 --no-progress --arith " + arith + detail + " --prompt-file " +
                               prompts + " --model " + m + " --json " + path("out.json"));
      EXPECT_EQ(r.status, 1) << r.output;
      EXPECT_NE(r.output.find("the " + arith + " state overflowed on 1 of 1 prompts"), std::string::npos) << r.output;
      const Json j = read_json(path("out.json"));
      EXPECT_EQ(j["predictions"], Json::parse("[null]"));
      EXPECT_EQ(j["undefined_predictions"], 1);
    }
  const Result c = iclcert("compare --threads 1 --no-progress --no-baselines --prompt-file " + prompts + " --model " +
                           m + " --against " + m + " --json " + path("c.json"));
  EXPECT_EQ(c.status, 1) << c.output;
  EXPECT_NE(c.output.find("state overflowed (inf or NaN in the probe's final logits) on 1 prompts of A and 1 of B"),
            std::string::npos)
      << c.output;
  const Json cj = read_json(path("c.json"));
  EXPECT_EQ(cj["agreement"], 0) << "an undefined prediction agrees with none";
  EXPECT_EQ(cj["undefined_predictions"], Json::parse(R"({"a": 1, "b": 1})"));
}

}  // namespace
