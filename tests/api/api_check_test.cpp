// api::check and api::replay called directly (issue 24): the verdict the command
// writes, nothing printed, no file unless named, progress reports, cancellation.
#include "api/check.hpp"
#include "io/input_error.hpp"
#include "support/cli_runner.hpp"

#include "captured_output.hpp"
#include "in_folder_test.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

namespace iclcert::api {
namespace {

namespace fs = std::filesystem;

// The verdict file without its timings, which differ run to run.
Json without_seconds(Json j) {
  j["evidence"].erase("seconds");
  for (auto& step : j["evidence"]["precision_escalation"]) step.erase("seconds");
  return j;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::set<std::string> listing(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::recursive_directory_iterator(dir)) names.insert(e.path().string());
  return names;
}

using testing::captured_output;

class ApiCheckTest : public testing::InFolderTest {};

CheckRequest claim(const std::string& id) {
  CheckRequest rq;
  rq.options.claim = id;
  return rq;
}

CheckRequest c1(long count) {
  CheckRequest rq = claim("C1");
  rq.options.instance.sample = "4,3,8";
  rq.options.samples = count;
  return rq;
}

CheckRequest r1_map(long budget) {
  CheckRequest rq = claim("R1");
  rq.options.box = {"gamma=1:2"};
  rq.options.map = true;
  rq.options.budget = budget;
  return rq;
}

TEST_F(ApiCheckTest, A2OnTheDefaultIsTheCommandsVerdictFile) {
  const auto cli = testing::iclcert("check --claim A2 --json " + path("a2.json"));
  ASSERT_EQ(cli.status, 0) << cli.output;
  const std::set<std::string> before = listing(dir_);
  CheckResult r;
  const std::string printed = captured_output([&] { r = check(claim("A2")); });
  EXPECT_EQ(printed, "");
  EXPECT_EQ(listing(dir_), before) << "a request naming no file writes none";
  EXPECT_EQ(r.report.verdict, claims::Verdict::proved);
  EXPECT_EQ(r.exit_status, 0);
  EXPECT_EQ(r.verdict["verdict"], "proved");
  EXPECT_EQ(without_seconds(r.verdict), without_seconds(Json::parse(read_file(path("a2.json")))));
  // The account is the command's output, but for its timing and the file it wrote.
  EXPECT_EQ(r.account.rfind("claim A2: M^{t+1} >= M^t (M = F, the Fisher ratio) at every layer, 1 to 6\n", 0), 0u)
      << r.account;
  EXPECT_NE(r.account.find("verdict: proved  (interval:128, "), std::string::npos) << r.account;
  EXPECT_EQ(cli.output.rfind(r.account.substr(0, r.account.find("verdict: ")), 0), 0u) << cli.output;
}

TEST_F(ApiCheckTest, NamedFilesAreWrittenAndAReplayReproducesThem) {
  CheckRequest rq = r1_map(4);
  rq.json_out = "r1.json", rq.map_csv = "r1.csv";
  std::string received;
  rq.on_account = [&](const std::string& piece) { received += piece; };
  const CheckResult r = check(rq);
  EXPECT_EQ(r.exit_status, 3);
  EXPECT_EQ(received, r.account);
  EXPECT_NE(r.account.find("verdict written to r1.json\n"), std::string::npos) << r.account;
  ASSERT_TRUE(r.map);
  EXPECT_EQ(r.map_coefficients, std::vector<std::string>{"gamma"});
  EXPECT_EQ(read_file("r1.csv"), claims::regions_csv(*r.map, r.map_coefficients));
  EXPECT_EQ(read_file("r1.csv"), r.map_csv);
  EXPECT_EQ(Json::parse(r.map_json)["budget"], 4);
  EXPECT_FALSE(fs::exists("map.json")) << "not named, not written";
  EXPECT_EQ(Json::parse(read_file("r1.json")), r.verdict);
  ReplayResult again;
  ReplayRequest from_file;
  from_file.verdict_file = "r1.json";
  EXPECT_EQ(captured_output([&] { again = replay(from_file); }), "");
  EXPECT_TRUE(again.reproduced) << again.account;
  EXPECT_EQ(again.exit_status, 0);
  EXPECT_TRUE(again.differences.empty());
}

// Python's Verdict.replay(): the verdict handed over in memory, no file read or written.
TEST_F(ApiCheckTest, AVerdictGivenInMemoryIsReplayed) {
  const CheckResult r = check(claim("A2"));
  const std::set<std::string> before = listing(dir_);
  ReplayRequest rq;
  rq.verdict = r.verdict;
  rq.verdict_name = "the test's verdict";
  const ReplayResult again = replay(rq);
  EXPECT_EQ(listing(dir_), before);
  EXPECT_TRUE(again.reproduced) << again.account;
  EXPECT_EQ(again.exit_status, 0);
  EXPECT_EQ(again.account.rfind("replaying the test's verdict (recorded verdict: proved), instance from its ", 0), 0u)
      << again.account;
  rq.verdict = Json::object();
  try {
    replay(rq);
    ADD_FAILURE() << "an empty verdict";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("the test's verdict", 0), 0u) << e.what();
  }
}

TEST_F(ApiCheckTest, C1ReportsIncreasingCountsAndAFinalEvent) {
  std::vector<ProgressEvent> events;
  Control control;
  control.progress = [&](const ProgressEvent& e) { events.push_back(e); };
  const std::set<std::string> before = listing(dir_);
  CheckResult r;
  EXPECT_EQ(captured_output([&] { r = check(c1(12), control); }), "");
  EXPECT_EQ(listing(dir_), before);
  ASSERT_GE(events.size(), 2u);
  for (std::size_t k = 1; k < events.size(); ++k) EXPECT_GE(events[k].done, events[k - 1].done);
  EXPECT_EQ(events.front().what, "iclcert check C1");
  EXPECT_EQ(events.front().total, 12);
  EXPECT_EQ(events.back().done, 12);
  EXPECT_TRUE(events.back().finished);
  EXPECT_FALSE(events[events.size() - 2].finished);
  EXPECT_EQ(r.verdict["evidence"]["options"]["samples"], 12);
}

// A token cancelled at the first report stops the call there: Cancelled, no file.
template <class Request>
void expect_cancelled_promptly(Request rq) {
  Control control;
  long reports = 0;
  control.progress = [&](const ProgressEvent&) {
    ++reports;
    control.cancel.cancel();
  };
  EXPECT_THROW(check(rq, control), Cancelled);
  EXPECT_EQ(reports, 1) << "stopped at the first unit of work";
  EXPECT_FALSE(fs::exists("out.json"));
  EXPECT_FALSE(fs::exists("map.csv"));
}

TEST_F(ApiCheckTest, CancelledFromTheProgressCallbackC1AndR1MapStopAndWriteNothing) {
  CheckRequest long_c1 = c1(1000000);  // hours, uncancelled
  long_c1.json_out = "out.json";
  expect_cancelled_promptly(long_c1);
  CheckRequest long_map = r1_map(1 << 20);
  long_map.json_out = "out.json", long_map.map_csv = "map.csv";
  expect_cancelled_promptly(long_map);
  // The next call runs normally.
  const CheckResult r = check(claim("A2"));
  EXPECT_EQ(r.exit_status, 0);
  EXPECT_EQ(r.verdict["verdict"], "proved");
}

TEST_F(ApiCheckTest, CancelledFromAnotherThreadAfterTheFirstReport) {
  Control control;
  std::atomic<long> reports{0}, at_cancel{-1};
  control.progress = [&](const ProgressEvent&) { ++reports; };
  std::thread canceller([&] {
    while (reports == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    at_cancel = reports.load();
    control.cancel.cancel();
  });
  CheckRequest rq = c1(1000000);  // hours, uncancelled
  rq.json_out = "out.json";
  EXPECT_THROW(check(rq, control), Cancelled);
  canceller.join();
  // At most the report under way when the token was set: the next checkpoint stops it.
  EXPECT_LE(reports - at_cancel, 1);
  EXPECT_FALSE(fs::exists("out.json"));
  const CheckResult again = check(c1(3));  // a fresh control: runs to its end
  EXPECT_EQ(again.verdict["evidence"]["options"]["samples"], 3);
}

// E1 reports each of its runs (the instance, then each permuted instance), and a
// cancelled call stops before the next one.
TEST_F(ApiCheckTest, E1StopsBetweenItsPermutedRunsWhenCancelled) {
  CheckRequest rq = claim("E1");
  rq.options.instance.sample = "4,3,12";
  std::vector<ProgressEvent> seen;
  Control control;
  control.progress = [&](const ProgressEvent& e) { seen.push_back(e); };
  EXPECT_EQ(check(rq, control).verdict["verdict"], "proved");
  ASSERT_GE(seen.size(), 2u);  // one report before each permuted run
  EXPECT_EQ(seen.front().what, "iclcert check E1");
  for (std::size_t k = 0; k < seen.size(); ++k) EXPECT_EQ(seen[k].done, static_cast<long>(k));
  // Cancelled at the first report: the run under way finishes, no other starts.
  rq.json_out = "out.json";
  seen.clear();
  control.progress = [&](const ProgressEvent& e) {
    seen.push_back(e);
    control.cancel.cancel();
  };
  EXPECT_THROW(check(rq, control), Cancelled);
  EXPECT_EQ(seen.size(), 1u);
  EXPECT_FALSE(fs::exists("out.json"));
}

TEST_F(ApiCheckTest, BadOptionsThrowTheCommandsMessages) {
  CheckRequest rq = claim("A2");
  rq.options.prec = 8;
  EXPECT_THROW(check(rq), std::invalid_argument);
  rq = claim("R1");
  rq.options.map = true;
  try {
    check(rq);
    ADD_FAILURE() << "a map without a box";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "--map paves a --box: give one");
  }
  EXPECT_THROW(check(claim("Z9")), std::invalid_argument);
}

}  // namespace
}  // namespace iclcert::api
