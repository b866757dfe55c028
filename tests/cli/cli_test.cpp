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
  EXPECT_EQ(replay.status, 0) << replay.output;  // a replay is a check: 0 when reproduced
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

// A shell command line with the binary in it, run in the test's directory: for
// what a user does from a working directory or with an environment variable.
Result in_dir(const fs::path& dir, const std::string& line) {
  return iclcert::testing::iclcert("--version >/dev/null; cd " + dir.string() + " && " + line);
}

const std::string kBin = ICLCERT_BINARY;
std::string shipped(const std::string& name) { return std::string(ICLCERT_SOURCE_DIR) + "/examples/" + name; }

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Issue 16: an output path equal to an input overwrote the input.
TEST_F(Cli, AnOutputThatIsAnInputIsRefused) {
  const std::string prompt = write("p.json", kPrompt), model = write("m.json", kLinearModel);
  for (const std::string& args :
       {"run --prompt " + prompt + " --model " + model + " --arith double --json " + prompt,
        "run --prompt " + prompt + " --model " + model + " --arith double --json " + model,
        "extract --model " + model + " --d 2 --C 3 --out " + model,
        "batch --prompt-file " + prompt + " --model " + model + " --device cpu --no-progress --json " + prompt,
        "check --claim E2 --prompt " + prompt + " --model " + model + " --arith rational --json " + model,
        "compare --model " + model + " --against " + model + " --prompt-file " + prompt + " --json " + prompt}) {
    Result r = iclcert(args);
    EXPECT_EQ(r.status, 2) << args << "\n" << r.output;
    EXPECT_NE(r.output.find("is also an input"), std::string::npos) << args << "\n" << r.output;
  }
  EXPECT_EQ(read_text(prompt), kPrompt);
  EXPECT_EQ(read_text(model), kLinearModel);
}

// Issue 16: `extract --out R --json E` exited 2 and left R written.
TEST_F(Cli, AFailedCommandWritesNoOutput) {
  const std::string reduced = path("reduced.json");
  Result r = iclcert("extract --model " + write("m.json", kLinearModel) + " --d 2 --C 3 --out " + reduced +
                     " --json " + path("no/such/dir/e.json"));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_FALSE(fs::exists(reduced));
}

// Issue 16: `--json -` wrote a file named "-"; a link was replaced by a file.
TEST_F(Cli, DashIsStandardOutputAndLinksStayLinks) {
  Result r = in_dir(dir_, kBin + " run --arith double --json -");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("\"arithmetic\": \"double\""), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir_ / "-"));
  // Standard output then carries the data alone: the report goes to standard error.
  Result quiet = in_dir(dir_, "(" + kBin + " run --arith double --json - 2>/dev/null)");
  ASSERT_EQ(quiet.status, 0) << quiet.output;
  EXPECT_EQ(nlohmann::json::parse(quiet.output)["arithmetic"], "double") << quiet.output;
  Result verdict = in_dir(dir_, "(" + kBin + " check --claim A2 --json - 2>/dev/null)");
  ASSERT_EQ(verdict.status, 0) << verdict.output;
  EXPECT_EQ(nlohmann::json::parse(verdict.output)["verdict"], "proved") << verdict.output;
  Result s = in_dir(dir_, kBin + " sample -d 2 -C 2 -N 3 --out -");
  ASSERT_EQ(s.status, 0) << s.output;
  EXPECT_EQ(nlohmann::json::parse(s.output)["N"], 3);
  const std::string target = write("target.json", "old");
  fs::create_symlink(target, dir_ / "link.json");
  ASSERT_EQ(iclcert("sample -d 2 -C 2 -N 3 --out " + path("link.json")).status, 0);
  EXPECT_TRUE(fs::is_symlink(dir_ / "link.json"));
  EXPECT_EQ(nlohmann::json::parse(read_text(target))["N"], 3);
  EXPECT_EQ(iclcert("sample -d 2 -C 2 -N 3 --out /dev/null").status, 0);
  EXPECT_TRUE(fs::is_character_file("/dev/null"));
  EXPECT_EQ(iclcert("sample -d 2 -C 2 -N 3 --out " + dir_.string()).status, 2);
}

// Issue 16: `sample --count K` held the whole batch in memory; it streams now,
// and prompt k of the batch is the prompt of seed + k.
TEST_F(Cli, SampledBatchesAreWrittenPromptByPrompt) {
  ASSERT_EQ(iclcert("sample -d 3 -C 2 -N 5 --count 3 --seed 7 --out " + path("batch.json")).status, 0);
  ASSERT_EQ(iclcert("sample -d 3 -C 2 -N 5 --seed 8 --out " + path("one.json")).status, 0);
  const auto batch = nlohmann::ordered_json::parse(read_text(path("batch.json")));
  auto one = nlohmann::ordered_json::parse(read_text(path("one.json")));
  one.erase("format");
  ASSERT_EQ(batch["prompts"].size(), 3u);
  EXPECT_EQ(batch["prompts"][1], one);
  EXPECT_EQ(batch.dump(1) + "\n", read_text(path("batch.json")));  // the layout of a whole-batch dump
}

// Issue 16: `fuzz` wrote iclcert-counterexample.json into the working directory unasked.
TEST_F(Cli, FuzzWritesOnlyWhereTold) {
  if (iclcert("fuzz --list").status != 0) GTEST_SKIP() << "built without RapidCheck";
  const std::string args = " fuzz --property equivariance --model " + shipped("models/perturbed-feature.json") +
                           " --sample 3,2,6 --cases 10 --seed 1";
  Result r = in_dir(dir_, kBin + args);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("give --counterexample FILE to save it"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::is_empty(dir_));
  EXPECT_EQ(in_dir(dir_, kBin + args + " --counterexample ce.json").status, 1);
  EXPECT_TRUE(fs::exists(dir_ / "ce.json"));
  Result tol = iclcert("fuzz --property equivariance --model " + shipped("models/equivariant.json") +
                       " --sample 3,2,6 --tolerance -1");
  EXPECT_EQ(tol.status, 2) << tol.output;
  // The model file records d = 3, C = 2: a split of the same size that contradicts it is refused.
  Result split = iclcert("fuzz --property equivariance --model " + shipped("models/equivariant.json") +
                         " --sample 2,3,6 --cases 2 --seed 1");
  EXPECT_EQ(split.status, 2) << split.output;
  EXPECT_NE(split.output.find("equivariant.json: field d"), std::string::npos) << split.output;
}

// Issue 16: a split of a dense model's size that contradicts the model ran silently.
TEST_F(Cli, AModelsRecordedDAndCAreEnforced) {
  Result extract = iclcert("extract --model " + shipped("trained/trained_free_model.json") + " --d 3");
  EXPECT_EQ(extract.status, 2) << extract.output;
  EXPECT_NE(extract.output.find("trained_free_model.json: field d: the model is for d = 4, C = 3"), std::string::npos)
      << extract.output;
  Result run = iclcert("run --sample 2,3,6 --arith double --model " + shipped("models/equivariant.json"));
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("--sample 2,3,6 has d = 2, C = 3"), std::string::npos) << run.output;
  EXPECT_EQ(iclcert("run --sample 3,2,6 --arith double --model " + shipped("models/equivariant.json")).status, 0);
  // extract takes d and C from the file when it records them.
  EXPECT_EQ(iclcert("extract --model " + shipped("trained/trained_free_model.json")).status, 0);
}

// Issue 16: `extract` counted layers from 0 while `check` counts from 1.
TEST_F(Cli, ExtractCountsLayersFromOne) {
  const std::string out = path("e.json");
  ASSERT_EQ(iclcert("extract --model " + shipped("default_model.json") + " --d 4 --C 3 --json " + out).status, 0);
  const auto j = nlohmann::json::parse(read_text(out));
  EXPECT_EQ(j["layers"][0]["layer"], 1);
  EXPECT_EQ(j["layers"].back()["layer"], j["layers"].size());
}

// Issue 16: silently accepted flags, and a double run that overflowed printed -nan.
TEST_F(Cli, OutOfRangeFlagsAndOverflowAreRefused) {
  for (const std::string seed : {"-1", "99999999999999999999999", "18446744073709551616", "1e3", ""}) {
    Result r = iclcert("run --sample 3,2,6 --arith double --seed '" + seed + "'");
    EXPECT_EQ(r.status, 2) << seed << "\n" << r.output;
  }
  EXPECT_EQ(iclcert("run --sample 3,2,6 --arith double --seed 18446744073709551615").status, 0);
  EXPECT_EQ(iclcert("sample --seed -1").status, 2);
  std::string huge = kPrompt;
  huge.replace(huge.find("\"1/3\""), 5, "\"1e999\"");
  Result r = iclcert("run --prompt " + write("huge.json", huge) + " --arith double");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("--arith double overflowed"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("mpfr:BITS"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("nan"), std::string::npos) << r.output;
}

// Issue 16: flags and files that asked for unbounded work were accepted.
TEST_F(Cli, WorkFromAFlagOrFileIsBounded) {
  struct Case {
    std::string args, must_mention;
  };
  std::string long_number = kLinearModel;
  long_number.replace(long_number.find("\"1/2\""), 5, "\"1" + std::string(100000, '0') + "\"");
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  std::string deep_prompt = kPrompt;
  deep_prompt.replace(deep_prompt.find("\"N\": 4"), 6, "\"N\": " + deep);
  std::string dup_prompt = kPrompt;
  dup_prompt.replace(dup_prompt.find("\"d\": 2"), 6, "\"d\": 2, \"d\": 3");
  for (const Case& c : std::vector<Case>{
           {"run --sample 1024,256,65536", "exceeds the limit of 10000000"},
           {"run --arith interval:1048576", "ICLCERT_MAX_PRECISION_BITS"},
           {"sample --count 1000000", "ICLCERT_MAX_SAMPLE_ENTRIES"},
           {"batch --sample 64,8,4096 --chunk 1048576 --device cpu --no-progress", "ICLCERT_MAX_CHUNK_BYTES"},
           {"run --arith rational --model " + write("long.json", long_number), "longer than 10000 characters"},
           {"run --prompt " + write("deep.json", deep_prompt), "nested deeper than 64"},
           {"run --prompt " + write("dup.json", dup_prompt), "field d: appears twice"},
       }) {
    Result r = iclcert(c.args);
    EXPECT_EQ(r.status, 2) << c.args << "\n" << r.output.substr(0, 2000);
    EXPECT_NE(r.output.find(c.must_mention), std::string::npos) << c.args << "\n" << r.output.substr(0, 2000);
    EXPECT_LT(r.output.size(), 2000u) << c.args;
  }
  Result zero = in_dir(dir_, "ICLCERT_MAX_INPUT_BYTES=65536 " + kBin + " run --prompt /dev/zero");
  EXPECT_EQ(zero.status, 2) << zero.output;
  EXPECT_NE(zero.output.find("larger than 65536 bytes"), std::string::npos) << zero.output;
}

}  // namespace
