// api::prove called directly (issue 24): the lemma's verdict, nothing printed, no
// file unless named, and a cancelled token stops the call before the solver.
#include "api/prove.hpp"

#include "captured_output.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

namespace iclcert::api {
namespace {

namespace fs = std::filesystem;

TEST(ApiProve, E1IsProvedAndTheCallPrintsAndWritesNothing) {
  const fs::path previous = fs::current_path();
  const fs::path dir = fs::temp_directory_path() / ("api_prove_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::current_path(dir);
  ProveRequest rq;
  rq.lemma = "E1";
  ProveResult r;
  EXPECT_EQ(testing::captured_output([&] { r = prove(rq); }), "");
  EXPECT_TRUE(fs::is_empty(dir));
  fs::current_path(previous);
  fs::remove_all(dir);
  EXPECT_EQ(r.exit_status, 0);
  EXPECT_EQ(r.lemma.verdict, proofs::Verdict::proved);
  EXPECT_EQ(r.verdict["claim"], "E1");
  EXPECT_EQ(r.verdict["verdict"], "proved");
  EXPECT_EQ(r.verdict["evidence"]["queries"].size(), r.lemma.steps.size());
  EXPECT_EQ(r.account.rfind("lemma E1: ", 0), 0u) << r.account;
  EXPECT_NE(r.account.find("\nverdict: proved ("), std::string::npos) << r.account;
}

TEST(ApiProve, ACancelledTokenStopsItAndTheNextCallRuns) {
  Control control;
  control.cancel.cancel();
  ProveRequest rq;
  rq.lemma = "E1";
  rq.json_out = (fs::temp_directory_path() / ("api_prove_test_" + std::to_string(::getpid()) + ".json")).string();
  EXPECT_THROW(prove(rq, control), Cancelled);
  EXPECT_FALSE(fs::exists(rq.json_out));
  rq.json_out.clear();
  EXPECT_EQ(prove(rq).exit_status, 0);
}

TEST(ApiProve, ATimeoutOutOfRangeIsRefusedAsTheCommandRefusesIt) {
  ProveRequest rq;
  rq.lemma = "E1";
  rq.timeout_s = 0;
  try {
    prove(rq);
    ADD_FAILURE() << "a zero timeout";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "--timeout 0: expected seconds from 0.001 (1 ms) to 86400");
  }
}

}  // namespace
}  // namespace iclcert::api
