// The iclcert command as a user meets it: the default run, traces, and bad input
// (exit status 2, one line naming the file and field, no output file left behind).
#include "support/cli_runner.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>

namespace {

namespace fs = std::filesystem;

using Result = iclcert::testing::CliResult;
using iclcert::testing::iclcert;
using Cli = iclcert::testing::CliTest;

const char* kPrompt = R"({ "format": 1, "d": 2, "C": 3, "N": 4,
  "X": [["0.5", "-1"], ["1", "0"], ["-0.25", "2"], ["3", "1/3"]],
  "labels": [0, 2, 1, 1], "probe": ["0.25", "0.75"], "probe_label": 2 })";
const char* kLinearModel = R"({ "format": 1, "kernel": "linear",
  "layers": [ { "beta": "1/2", "gamma": "1", "alpha": "1/2", "alpha_label": "1/2" } ] })";

TEST_F(Cli, DefaultRunPrintsBothTables) {
  Result r = iclcert("run");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("arithmetic double"), std::string::npos);
  EXPECT_NE(r.output.find("arithmetic mpfr:256"), std::string::npos);
  EXPECT_NE(r.output.find("fisher"), std::string::npos);
  // 6 layers: rows t = 0..6 in each table.
  EXPECT_NE(r.output.find("\n   6 "), std::string::npos) << r.output;
}

TEST_F(Cli, RationalTraceIsExact) {
  const std::string out = path("trace.json");
  Result r = iclcert("run --prompt " + write("p.json", kPrompt) + " --model " + write("m.json", kLinearModel) +
                     " --arith rational --json " + out);
  ASSERT_EQ(r.status, 0) << r.output;
  nlohmann::json j = nlohmann::json::parse(std::ifstream(out));
  EXPECT_EQ(j["format"], 1);
  EXPECT_EQ(j["arithmetic"], "rational");
  EXPECT_EQ(j["layers"][0]["X"][3][1], "1/3");
  EXPECT_EQ(j["layers"].size(), 2u);
}

TEST_F(Cli, SampleThenRun) {
  const std::string prompt = path("sampled.json");
  ASSERT_EQ(iclcert("sample -d 3 -C 2 -N 6 --seed 4 --out " + prompt).status, 0);
  Result r = iclcert("run --prompt " + prompt + " --arith mpfr:128");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(iclcert("run --sample 3,2,6 --seed 4 --balanced --arith double").status, 0);
}

TEST_F(Cli, RationalSoftmaxIsRefused) {
  Result r = iclcert("run --arith rational");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("exp"), std::string::npos) << r.output;
}

// Each bad input: exit 2, a message naming the file and field, and no trace file.
TEST_F(Cli, BadInputExitsTwoAndWritesNothing) {
  struct Case {
    std::string args, must_mention;
  };
  std::string prompt_bad_label = kPrompt;
  prompt_bad_label.replace(prompt_bad_label.find("[0, 2, 1, 1]"), 12, "[0, 2, 1, 3]");
  std::string prompt_inf = kPrompt;
  prompt_inf.replace(prompt_inf.find("\"1/3\""), 5, "1e999");
  std::string prompt_zero_den = kPrompt;
  prompt_zero_den.replace(prompt_zero_den.find("\"1/3\""), 5, "\"1/0\"");
  const std::string dense_model =
      R"({"format":1,"kernel":"linear","layers":[{"heads":[{"score_matrix":[["1","0"],["0","1"]],"value_matrix":[["1","0"],["0","1"]]}]}]})";
  const std::vector<Case> cases = {
      {"run --prompt " + path("missing.json"), "missing.json"},
      {"run --prompt " + write("malformed.json", "{\"format\": 1,"), "malformed JSON"},
      {"run --prompt " + write("label.json", prompt_bad_label), "labels[3]"},
      {"run --prompt " + write("inf.json", prompt_inf), "inf.json"},
      {"run --prompt " + write("den.json", prompt_zero_den), "X[3][1]"},
      {"run --prompt " + write("p.json", kPrompt) + " --model " + write("dense.json", dense_model), "score_matrix"},
      {"run --model " + write("unknown.json", R"({"format":1,"layers":[],"depth":3})"), "depth"},
      {"run --arith mpfr:1", "mpfr:1"},
      {"run --arith quad", "quad"},
      {"run --sample 4,1,10", "--sample"},
      {"run --sample 4,3,10 --balanced", "divide"},
      {"run --frobnicate", "frobnicate"},
  };
  for (const auto& c : cases) {
    const std::string out = path("out.json");
    Result r = iclcert(c.args + " --json " + out);
    EXPECT_EQ(r.status, 2) << c.args << "\n" << r.output;
    EXPECT_NE(r.output.find(c.must_mention), std::string::npos) << c.args << "\n" << r.output;
    EXPECT_FALSE(fs::exists(out)) << c.args;
    for (const auto& e : fs::directory_iterator(dir_))
      EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << "leftover " << e.path();
  }
}

// `iclcert check`: exit status 0 proved, 1 refuted, 3 undecided, 2 bad input; a
// refuted verdict file replays from its counterexample.
TEST_F(Cli, CheckExitStatusesAndReplay) {
  EXPECT_EQ(iclcert("check --claim A2").status, 0);
  const std::string deep = std::string(ICLCERT_SOURCE_DIR) + "/examples/deep32_model.json";
  const std::string verdict = path("verdict.json");
  Result refuted = iclcert("check --claim A2 --model " + deep + " --json " + verdict);
  EXPECT_EQ(refuted.status, 1) << refuted.output;
  EXPECT_NE(refuted.output.find("layer 8: F = "), std::string::npos) << refuted.output;
  nlohmann::json v = nlohmann::json::parse(std::ifstream(verdict));
  EXPECT_EQ(v["verdict"], "refuted");
  EXPECT_EQ(v["counterexample"]["layer"], 8);
  Result replay = iclcert("check --replay " + verdict);
  EXPECT_EQ(replay.status, 1) << replay.output;
  EXPECT_NE(replay.output.find("reproduces the recorded verdict"), std::string::npos) << replay.output;
  // An identity layer: F^{t+1} = F^t exactly, which enclosures cannot certify.
  const std::string still = write("still.json", R"({"format":1,"layers":[{"beta":"1","gamma":"1","alpha":"0","alpha_label":"0"}]})");
  Result tie = iclcert("check --claim A2 --model " + still + " --max-prec 256");
  EXPECT_EQ(tie.status, 3) << tie.output;
  // A1's hypotheses fail on the default model (beta = 1/4): a usage error naming why.
  Result hyp = iclcert("check --claim A1");
  EXPECT_EQ(hyp.status, 2);
  EXPECT_NE(hyp.output.find("beta = 1/4"), std::string::npos) << hyp.output;
  EXPECT_EQ(iclcert("check --claim A2 --arith double").status, 2);
}

}  // namespace
