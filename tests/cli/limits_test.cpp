// Issue 23 (hardening): bounded inputs and bounded work. Each reproduction of the
// issue gets exit status 2, one line "iclcert: ..." naming the option or the file
// and field, within seconds, and leaves no output file behind.
#include "support/cli_runner.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>
#include <sys/wait.h>

namespace {

namespace fs = std::filesystem;

using Result = iclcert::testing::CliResult;
using iclcert::testing::iclcert;
using Limits = iclcert::testing::CliTest;

using iclcert::testing::error_lines;

// Exit 2, one error line of at most about 200 characters (plus the file paths of
// this test's temporary folder) mentioning each of `mentions`.
void expect_refused(const Result& r, const std::vector<std::string>& mentions, std::size_t max_chars = 300) {
  EXPECT_EQ(r.status, 2) << r.output;
  const auto lines = error_lines(r.output);
  ASSERT_EQ(lines.size(), 1u) << r.output;
  EXPECT_LE(lines[0].size(), max_chars) << lines[0];
  for (const auto& m : mentions) EXPECT_NE(lines[0].find(m), std::string::npos) << "no \"" << m << "\" in: " << lines[0];
}

// A shell command line, as iclcert() runs the binary: for a variable or a ulimit.
Result shell(const std::string& command) {
  FILE* pipe = popen(("(" + command + ") 2>&1").c_str(), "r");
  std::string out;
  char buf[4096];
  while (std::size_t n = fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  const int raw = pclose(pipe);
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, out};
}

// Runs and times a command.
struct Timed {
  Result result;
  double seconds;
};
Timed timed(const std::string& args) {
  const auto start = std::chrono::steady_clock::now();
  Result r = iclcert(args);
  return {r, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()};
}

std::string prompt_with(int N, int d, const std::string& number) {
  nlohmann::json p = {{"format", 1}, {"d", d}, {"C", 2}, {"N", N}};
  p["X"] = nlohmann::json::array();
  for (int i = 0; i < N; ++i) p["X"].push_back(std::vector<std::string>(d, number));
  std::vector<int> labels(N);
  for (int i = 0; i < N; ++i) labels[i] = i % 2;
  p["labels"] = labels;
  p["probe"] = std::vector<std::string>(d, "1");
  p["probe_label"] = 0;
  return p.dump();
}

const char* kLinearLayer = R"({"beta": "1", "gamma": "0", "alpha": "1", "alpha_label": "1"})";

std::string linear_model(int layers) {
  std::string m = R"({"format": 1, "kernel": "linear", "layers": [)";
  for (int l = 0; l < layers; ++l) m += (l ? ", " : "") + std::string(kLinearLayer);
  return m + "]}";
}

// Item 6: "1e4000" is 6 characters of text and 13,000 bits of rational; a file of
// them took gigabytes. The exponents beyond +-400 of one file are bounded as it is
// parsed, before any digit is converted, naming the file, the field and the limit.
TEST_F(Limits, LargeDecimalExponentsOfAFileAreBounded) {
  const std::string p = write("p.json", prompt_with(80, 4, "1e4000"));  // 320 x 3600 > 10^6
  const Result r = iclcert("run --prompt " + p + " --arith interval:64 --json " + path("t.json"));
  expect_refused(r, {"p.json", "field X[", "ICLCERT_MAX_LARGE_EXPONENTS", "400"});
  EXPECT_FALSE(fs::exists(path("t.json")));
  // The same file for a user who means it; a few such numbers need no variable.
  const std::string m = write("m.json", linear_model(1));
  EXPECT_EQ(shell("ICLCERT_MAX_LARGE_EXPONENTS=2000000 " ICLCERT_BINARY " run --prompt " + p +
                  " --arith interval:64 --model " + m).status,
            0);
  const std::string few = write("few.json", prompt_with(4, 2, "1e-4000"));
  EXPECT_EQ(iclcert("run --prompt " + few + " --arith interval:64 --model " + m).status, 0);
  // One exponent beyond 4000: the message says the limit.
  const Result one = iclcert("run --prompt " + write("one.json", prompt_with(4, 2, "1e4001")));
  expect_refused(one, {"one.json", "X[0][0]", "at most 4000"});
}

// Item 6: GMP (and MPFR through it) out of memory is one line and exit 2, not
// "GNU MP: Cannot allocate memory" and an abort. 2^20-bit MPFR numbers of a large
// prompt need about 2 GB; the address space is capped at 1.5 GB.
TEST_F(Limits, GmpOutOfMemoryIsAnErrorNotAnAbort) {
  const std::string p = write("big.json", prompt_with(2000, 6, "1/3"));
  const Result r = shell("ulimit -v 1500000; ICLCERT_MAX_PRECISION_BITS=1048576 exec " ICLCERT_BINARY " run --prompt " +
                         p + " --arith mpfr:1048576 --json " + path("t.json"));
  expect_refused(r, {"out of memory"});
  EXPECT_EQ(r.output.find("GNU MP"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(path("t.json")));
}

// Item 7: 2 * 10^9 cases ran out of memory (exit 4, std::bad_alloc).
TEST_F(Limits, FuzzCasesAreBounded) {
  const Result r = iclcert("fuzz --property E2 --cases 2000000000 --seed 1 --counterexample " + path("ce.json"));
  expect_refused(r, {"--cases 2000000000", "1000000"});
  EXPECT_FALSE(fs::exists(path("ce.json")));
  expect_refused(iclcert("fuzz --property E2 --cases 0"), {"--cases 0"});
}

// Item 8: sweep drew 10^6 prompts (102 s, 1.5 GB) before refusing 10^10 checks;
// with 10^7 prompts it ran on. Both limits now come before the first draw.
TEST_F(Limits, SweepChecksItsLimitsBeforeDrawingPrompts) {
  const Timed checks = timed("sweep --claim A2 --grid beta=0:1:10000 --sample 4,3,24 --prompts 1000000 --no-progress --csv " +
                             path("s.csv"));
  expect_refused(checks.result, {"--prompts 1000000", "10000 cells", "100000000 checks"});
  EXPECT_LT(checks.seconds, 20) << "the prompts were drawn before the limit was checked";
  EXPECT_FALSE(fs::exists(path("s.csv")));
  const Timed memory = timed("sweep --claim A2 --grid beta=0:0:1 --sample 4,3,24 --prompts 10000000 --no-progress --json " +
                             path("s.json"));
  expect_refused(memory.result, {"--prompts 10000000", "ICLCERT_MAX_SAMPLE_ENTRIES"});
  EXPECT_LT(memory.seconds, 20);
  EXPECT_FALSE(fs::exists(path("s.json")));
}

// Item 9: exact rationals triple in size per layer; 40 linear layers never ended.
// The run stops at the first layer whose state passes 2^16 bits, naming it.
TEST_F(Limits, ExactRationalsStopAtTheLayerWhereTheyGrowTooLarge) {
  const std::string m = write("deep.json", linear_model(40));
  const Timed run = timed("run --model " + m + " --arith rational --json " + path("t.json"));
  expect_refused(run.result, {"--arith rational", "after layer 6", "65536"});
  EXPECT_LT(run.seconds, 30);
  EXPECT_FALSE(fs::exists(path("t.json")));
  const Timed check = timed("check --claim A2 --model " + m + " --arith rational --json " + path("v.json"));
  expect_refused(check.result, {"--arith rational", "after layer 6"});
  EXPECT_LT(check.seconds, 30);
  EXPECT_FALSE(fs::exists(path("v.json")));
  // Shallower runs are untouched: 5 layers stay below the bound.
  EXPECT_EQ(iclcert("run --model " + write("five.json", linear_model(5)) + " --arith rational").status, 0);
}

// Item 10: the rejection cap was per point, 200000 draws of 16384 exact products
// each for d = 256, C = 64: minutes. The draws of a prompt are capped by its work.
TEST_F(Limits, TheSamplerCapsItsTotalDraws) {
  const Timed r = timed("sample -d 256 -C 64 -N 1 --margin 1e9 --out " + path("s.json"));
  expect_refused(r.result, {"--margin 1000000000", "too large", "cap"});
  EXPECT_LT(r.seconds, 30);
  EXPECT_FALSE(fs::exists(path("s.json")));
  // C1 draws its prompts through the same sampler.
  const Timed c1 = timed("check --claim C1 --sample 256,64,1 --margin 1e9 --samples 10 --json " + path("v.json"));
  expect_refused(c1.result, {"--margin 1000000000", "cap"});
  EXPECT_LT(c1.seconds, 30);
  EXPECT_FALSE(fs::exists(path("v.json")));
}

// Item 10: a C1 verdict file replayed with a hopeless margin stops as quickly.
TEST_F(Limits, AC1ReplayWithAHugeMarginStops) {
  const std::string v = path("v.json");
  const Result made = iclcert("check --claim C1 --sample 2,2,2 --samples 5 --json " + v);
  ASSERT_TRUE(made.status == 0 || made.status == 1 || made.status == 3) << made.output;
  nlohmann::json j = nlohmann::json::parse(std::ifstream(v));
  j["evidence"]["options"]["sample"] = "256,64,1";
  j["evidence"]["options"]["margin"] = "1e9";
  const std::string edited = write("edited.json", j.dump());
  const Timed r = timed("check --replay " + edited);
  expect_refused(r.result, {"1000000000", "cap"});
  EXPECT_LT(r.seconds, 30);
}

// Item 11: fuzz took any BITS up to MPFR's 2^20 (past ICLCERT_MAX_PRECISION_BITS)
// and "128abc" as 128; prove's 0.0000001 s became 0 ms, no limit for Z3.
TEST_F(Limits, ArithmeticAndTimeoutFlagsAreCheckedEverywhere) {
  expect_refused(iclcert("fuzz --property A1 --arith mpfr:1048576 --cases 1 --seed 1"),
                 {"--arith mpfr:1048576", "ICLCERT_MAX_PRECISION_BITS"});
  const std::string m = write("m.json", linear_model(1));
  expect_refused(iclcert("fuzz --property equivariance --model " + m + " --arith mpfr:128abc --cases 1 --seed 1"),
                 {"--arith mpfr:128abc"});
  expect_refused(iclcert("fuzz --property equivariance --model " + m + " --arith mpfr:1048576 --cases 1 --seed 1"),
                 {"--arith mpfr:1048576", "ICLCERT_MAX_PRECISION_BITS"});
  expect_refused(iclcert("run --arith 'mpfr: 128'"), {"--arith mpfr: 128"});
  expect_refused(iclcert("run --arith mpfr:+128"), {"--arith mpfr:+128"});
  if (iclcert("prove --help").status != 0) GTEST_SKIP() << "built without Z3: no prove command";
  for (const char* t : {"0.0000001", "0.0009", "nan", "0"}) {
    const Result r = iclcert(std::string("prove --lemma E1 --timeout ") + t + " --json " + path("p.json"));
    expect_refused(r, {"--timeout", "0.001"});
    EXPECT_FALSE(fs::exists(path("p.json")));
  }
}

// Item 15: `extract --max-residual nan` was accepted.
TEST_F(Limits, ExtractMaxResidualMustBeAFiniteNumber) {
  const std::string m = write("m.json", linear_model(1));
  for (const char* bad : {"nan", "inf", "-1", "0"}) {
    const Result r = iclcert("extract --model " + m + " --d 2 --C 2 --max-residual " + bad + " --out " + path("e.json"));
    expect_refused(r, {"--max-residual", bad});
    EXPECT_FALSE(fs::exists(path("e.json")));
  }
}

// Messages: `--margin 1e4000` made a line of 4086 characters; a negative margin
// named no option; d = 2^63 was "got -9223372036854775808".
TEST_F(Limits, MessagesAreShortAndNameWhatTheyRefuse) {
  const Result huge = iclcert("sample --margin 1e4000 --out " + path("s.json"));
  expect_refused(huge, {"--margin about 1e+4000", "too large"}, 200);
  EXPECT_FALSE(fs::exists(path("s.json")));
  expect_refused(iclcert("sample --margin -1"), {"--margin -1", ">= 0"}, 200);
  expect_refused(iclcert("run --sample 4,3,8 --margin -1/2"), {"--margin -1/2", ">= 0"}, 200);
  expect_refused(iclcert("run --sample 4,3,8 --margin " + std::string(20000, '7')), {"--margin 7777", "10000 characters"}, 200);

  std::string p = prompt_with(2, 2, "1");
  const std::string d = "\"d\":2";
  p.replace(p.find(d), d.size(), "\"d\":9223372036854775808");
  const Result big_d = iclcert("run --prompt " + write("d.json", p) + " --json " + path("t.json"));
  expect_refused(big_d, {"d.json", "field d", "got 9223372036854775808"});
  EXPECT_EQ(big_d.output.find("-9223372036854775808"), std::string::npos) << big_d.output;
  EXPECT_FALSE(fs::exists(path("t.json")));
  p.replace(p.find("9223372036854775808"), 19, "18446744073709551616");
  expect_refused(iclcert("run --prompt " + write("d2.json", p)), {"d2.json", "field d", "too large"});
  // Flags: CLI11 saturated 2^63 to 2^63 - 1, and the message showed that number.
  for (const std::string& args : {std::string("check --claim C1 --sample 4,3,8 --samples 9223372036854775808"),
                                  std::string("check --claim R1 --budget 9223372036854775808"),
                                  std::string("sweep --claim A2 --grid beta=0:1:2 --sample 4,3,8 --prompts 9223372036854775808")}) {
    const Result r = iclcert(args);
    expect_refused(r, {"9223372036854775808"});
    EXPECT_EQ(r.output.find("9223372036854775807"), std::string::npos) << r.output;
  }
}

}  // namespace
