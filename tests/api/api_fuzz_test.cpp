// api::fuzz called directly (issue 24): the account `iclcert fuzz` prints for the
// same seed, no file unless named, and a cancel from the progress receiver that
// stops the run between cases, writes nothing, and leaves the next call to run.
#include "api/fuzz.hpp"
#include "captured_output.hpp"
#include "support/cli_runner.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace iclcert::api {
namespace {

namespace fs = std::filesystem;

std::string shipped(const std::string& name) { return std::string(ICLCERT_SOURCE_DIR) + "/examples/" + name; }

// Without the timing of the summary line ("..., 0.01 s, seed 7").
// Built by appending: g++ 12 warns falsely (-Wrestrict) on std::string::replace here.
std::string untimed(const std::string& text) {
  std::string out;
  std::size_t copied = 0;
  for (std::size_t at = 0; (at = text.find(" s, seed ", at)) != std::string::npos; at += 9) {
    const std::size_t from = text.rfind(", ", at);
    out.append(text, copied, from + 2 - copied).append("T");
    copied = at;
  }
  return out.append(text, copied, std::string::npos);
}

class ApiFuzzTest : public testing::CliTest {};

TEST_F(ApiFuzzTest, AccountIsWhatTheCommandPrints) {
  const auto cli = testing::iclcert("fuzz --property all --seed 7 --cases 3");
  ASSERT_EQ(cli.status, 0) << cli.output;
  FuzzRequest r;
  r.property = "all", r.seed = 7, r.cases = 3;
  std::string streamed;
  r.on_account = [&](const std::string& piece) { streamed += piece; };
  FuzzResult f;
  EXPECT_EQ(testing::captured_output([&] { f = fuzz(r); }), "");
  EXPECT_EQ(f.exit_status, 0);
  EXPECT_EQ(untimed(f.account), untimed(cli.output));
  EXPECT_EQ(streamed, f.account);
  EXPECT_EQ(fuzz_property_list(), testing::iclcert("fuzz --list").output);
}

TEST_F(ApiFuzzTest, CounterexampleGoesIntoTheAccountUnlessAFileIsNamed) {
  FuzzRequest r;
  r.property = "equivariance", r.model_file = shipped("models/perturbed-label.json"), r.sample = "3,2,8";
  r.seed = 3, r.cases = 5;
  const FuzzResult printed = fuzz(r);
  EXPECT_EQ(printed.exit_status, 1);
  EXPECT_NE(printed.account.find("counterexample (give --counterexample FILE"), std::string::npos);
  EXPECT_TRUE(fs::is_empty(dir_));
  r.counterexample_out = path("ce.json");
  EXPECT_EQ(fuzz(r).exit_status, 1);
  ASSERT_TRUE(fs::exists(path("ce.json")));
  const FuzzResult again = fuzz_replay({path("ce.json")});
  EXPECT_EQ(again.exit_status, 1);
  EXPECT_NE(again.account.find("still fails"), std::string::npos) << again.account;
}

TEST_F(ApiFuzzTest, CancelStopsBetweenCasesWritesNothingAndTheNextCallRuns) {
  FuzzRequest r;
  r.property = "E1-feature", r.seed = 11, r.cases = 100000;
  r.counterexample_out = path("ce.json");
  Control c;
  long reports = 0;
  c.progress = [&reports, token = c.cancel](const ProgressEvent& e) {
    EXPECT_EQ(e.done, ++reports);
    if (e.done == 5) token.cancel();
  };
  EXPECT_THROW(fuzz(r, c), Cancelled);
  EXPECT_EQ(reports, 5);  // no case checked after the cancel
  EXPECT_TRUE(fs::is_empty(dir_));
  r.cases = 5;
  const FuzzResult f = fuzz(r);
  EXPECT_EQ(f.exit_status, 0);
  EXPECT_NE(f.account.find("summary: held, 5 cases held"), std::string::npos) << f.account;
}

}  // namespace
}  // namespace iclcert::api
