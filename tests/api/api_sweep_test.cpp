// api::sweep, api::run and api::sample called directly (issue 24): typed results,
// nothing printed, no file unless named, progress reports and cancellation.
#include "api/run.hpp"
#include "api/sample.hpp"
#include "api/sweep.hpp"

#include "captured_output.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace iclcert::api {
namespace {

namespace fs = std::filesystem;

using testing::captured_output;

// The sweep of tests/cli/sweep_test's small map: A2 over gamma in {1/2, 1, 3/2},
// two prompts drawn from seed 1 (one refutes at gamma = 1/2).
SweepRequest small_sweep() {
  SweepRequest rq;
  rq.claim = "A2";
  rq.grid = {parse_sweep_axis("gamma=0.5:1.5:3")};
  rq.sample = "3,2,6";
  rq.prompts = 2;
  rq.threads = 2;
  return rq;
}

class ApiSweepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    previous_ = fs::current_path();
    dir_ = fs::temp_directory_path() / ("api_sweep_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    fs::current_path(dir_);
  }
  void TearDown() override {
    fs::current_path(previous_);
    fs::remove_all(dir_);
  }
  bool empty_folder() const { return fs::is_empty(dir_); }
  fs::path previous_, dir_;
};

TEST_F(ApiSweepTest, ASmallMapPrintsNothingAndWritesNothingUnasked) {
  std::vector<ProgressEvent> events;
  Control control;
  control.progress = [&](const ProgressEvent& e) { events.push_back(e); };
  SweepResult r;
  EXPECT_EQ(captured_output([&] { r = sweep(small_sweep(), control); }), "");
  EXPECT_TRUE(empty_folder());
  ASSERT_EQ(r.cells.size(), 3u);
  EXPECT_EQ(r.cells[0].values, std::vector<Rational>{Rational(1, 2)});
  EXPECT_EQ(r.cells[0].proved, 1);
  EXPECT_EQ(r.cells[0].refuted, 1);
  EXPECT_EQ(r.cells[0].refuting_prompt, 1);
  EXPECT_EQ(r.cells[0].counterexample["claim"], "A2");
  EXPECT_EQ(r.cells[1].proved + r.cells[2].proved, 4);
  EXPECT_EQ(r.json["totals"], Json({{"cells", 3}, {"proved", 5}, {"refuted", 1}, {"undecided", 0}}));
  EXPECT_EQ(r.csv.substr(0, r.csv.find('\n')),
            "cell,gamma,gamma_exact,prompts,proved,refuted,undecided,refuting_prompt,counterexample,seconds");
  EXPECT_EQ(r.account.rfind("iclcert sweep: claim A2 over 3 cells x 2 prompts, 6 layers, 2 threads\n", 0), 0u);
  ASSERT_FALSE(events.empty());
  EXPECT_TRUE(events.back().finished);
  EXPECT_EQ(events.back().done, 6);
  EXPECT_EQ(events.back().total, 6);
  for (std::size_t k = 1; k < events.size(); ++k) EXPECT_GE(events[k].done, events[k - 1].done);
}

TEST_F(ApiSweepTest, CancelledAtTheFirstReportItStopsAndWritesNothing) {
  SweepRequest rq = small_sweep();
  rq.grid = {parse_sweep_axis("gamma=0.5:1.5:400")};
  rq.threads = 1;
  rq.csv = "map.csv";
  Control control;
  control.progress = [&](const ProgressEvent&) { control.cancel.cancel(); };
  EXPECT_THROW(sweep(rq, control), Cancelled);  // uncancelled, 400 cells would take minutes
  EXPECT_TRUE(empty_folder());
  EXPECT_EQ(sweep(small_sweep()).json["totals"]["refuted"], 1);  // the next call runs
}

// The prompts in memory (Python's sweep(prompts=...)): the cells of the same
// prompts drawn by --sample, no file read or written, and the list named in the JSON.
TEST_F(ApiSweepTest, PromptsGivenInMemoryGiveTheCellsOfTheSamePromptsSampled) {
  SampleRequest drawn;
  drawn.sampler.d = 3, drawn.sampler.C = 2, drawn.sampler.N = 6, drawn.sampler.seed = 1;
  drawn.count = 2;
  SweepRequest rq = small_sweep();
  rq.sample.clear();
  rq.prompt_list = sample(drawn).prompts;
  rq.prompt_list_name = "the test's prompts";
  const SweepResult r = sweep(rq), expected = sweep(small_sweep());
  EXPECT_TRUE(empty_folder());
  ASSERT_EQ(r.cells.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(r.cells[i].proved, expected.cells[i].proved) << i;
    EXPECT_EQ(r.cells[i].refuted, expected.cells[i].refuted) << i;
  }
  EXPECT_EQ(r.json["totals"], expected.json["totals"]);
  EXPECT_EQ(r.json["prompts"], Json({{"prompt_file", "the test's prompts"}}));
  rq.sample = "3,2,6";  // a list and --sample: one too many
  try {
    sweep(rq);
    ADD_FAILURE() << "two prompt sources";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "iclcert sweep needs exactly one of --prompt F and --sample d,C,N");
  }
}

TEST_F(ApiSweepTest, RunAndSampleReturnTypedResults) {
  RunRequest rq;
  rq.arithmetics = {parse_arithmetic("interval:128")};
  RunResult r;
  EXPECT_EQ(captured_output([&] { r = run(rq); }), "");
  ASSERT_EQ(r.runs.size(), 1u);
  EXPECT_EQ(r.runs[0].arithmetic.label(), "interval:128");
  EXPECT_EQ(r.runs[0].trace["arithmetic"], "interval:128");
  EXPECT_EQ(r.account.rfind("prompt: embedded default (examples/default_prompt.json) (d=4, C=3, N=24, probe label "
                            "known)\n", 0),
            0u)
      << r.account;
  EXPECT_EQ(r.csv.substr(0, 19), "arithmetic,t,fisher");
  SampleRequest s;
  s.sampler.d = 3, s.sampler.C = 2, s.sampler.N = 5, s.sampler.seed = 4;
  s.count = 2;
  const SampleResult drawn = sample(s);
  ASSERT_EQ(drawn.prompts.size(), 2u);
  EXPECT_EQ(drawn.prompts[1].N, 5);
  EXPECT_TRUE(empty_folder());
}

}  // namespace
}  // namespace iclcert::api
