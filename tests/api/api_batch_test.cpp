// api::batch and api::compare called directly (issue 24): the JSON and CSV the
// commands write, nothing printed, no file unless named, progress reports, and
// cancellation from the progress receiver (no file written, the next call runs).
#include "api/batch.hpp"
#include "api/compare.hpp"
#include "api/instance.hpp"
#include "io/json_reader.hpp"
#include "io/model_io.hpp"
#include "io/prompt_io.hpp"
#include "captured_output.hpp"
#include "in_folder_test.hpp"
#include "support/cli_runner.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace iclcert::api {
namespace {

namespace fs = std::filesystem;

std::string shipped(const std::string& name) { return std::string(ICLCERT_SOURCE_DIR) + "/examples/" + name; }

std::string file_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A batch result's JSON without what differs run to run (timings, memory).
Json steady(const std::string& text) {
  Json j = parse_json_text(text, "json");
  for (const char* k : {"seconds", "validation_seconds", "peak_memory_kib", "certified_seconds"}) j.erase(k);
  if (j.contains("certification")) j["certification"].erase("seconds");
  if (j.contains("certify") && j["certify"].is_object())
    for (const char* m : {"a", "b"}) j["certify"][m].erase("seconds");
  return j;
}

class ApiBatchTest : public testing::InFolderTest {
 protected:
  // `batch --sample 8,3,16 --count 50` as a request (one thread, on the CPU).
  BatchRequest sampled(long count = 50) {
    InstanceOptions s;
    s.sample = "8,3,16";
    source_ = gpu::prompts_from_sampler(sampler_options(s), count, 1);
    BatchRequest r;
    r.prompts.source = source_.get();
    r.model = default_model();
    r.source = {{"sample", "8,3,16"}, {"seed", 1}, {"balanced", false}, {"margin", "0"}};
    r.model_name = "embedded default (examples/default_model.json)";
    r.device = gpu::DeviceChoice::cpu;
    r.threads = 1;
    return r;
  }
  std::set<std::string> listing() const {
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.insert(e.path().filename().string());
    return names;
  }
  std::unique_ptr<gpu::PromptSource> source_;
};

TEST_F(ApiBatchTest, ResultIsWhatTheCommandWrites) {
  const auto cli = testing::iclcert("batch --sample 8,3,16 --count 50 --device cpu --threads 1 --validate 5 --json " +
                                    path("cli.json") + " --csv " + path("cli.csv"));
  ASSERT_EQ(cli.status, 0) << cli.output;
  BatchRequest r = sampled();
  r.validate = 5;
  const BatchResult b = batch(r);
  EXPECT_EQ(b.exit_status, 0);
  EXPECT_EQ(steady(b.json_text), steady(file_text(path("cli.json"))));
  EXPECT_EQ(b.csv_text, file_text(path("cli.csv")));
  // The account is the command's output, its timing line aside.
  EXPECT_EQ(b.account.substr(0, b.account.find('\n')), cli.output.substr(0, cli.output.find('\n')));
  ASSERT_TRUE(b.run.has_value());
  EXPECT_EQ(b.run->predictions.size(), 50u);
  ASSERT_TRUE(b.run->validation.has_value());
  EXPECT_EQ(b.run->validation->prompts, 5);
}

TEST_F(ApiBatchTest, CertifyIsWhatTheCommandWrites) {
  const auto cli = testing::iclcert("batch --sample 8,3,16 --count 30 --device cpu --threads 1 --certify --json " +
                                    path("cli.json"));
  ASSERT_EQ(cli.status, 0) << cli.output;
  BatchRequest r = sampled(30);
  r.certify = true;
  const BatchResult b = batch(r);
  EXPECT_EQ(steady(b.json_text), steady(file_text(path("cli.json"))));
  ASSERT_TRUE(b.certification.has_value());
  EXPECT_EQ(b.certification->prompts.size(), 30u);
  EXPECT_EQ(b.certification->flips, 0);
}

TEST_F(ApiBatchTest, PrintsNothingAndWritesOnlyWhatItIsAskedTo) {
  BatchRequest r = sampled();
  r.validate = 2;
  std::string account;
  EXPECT_EQ(testing::captured_output([&] { account = batch(r).account; }), "");
  EXPECT_NE(account.find("iclcert batch: 50 prompts"), std::string::npos) << account;
  EXPECT_TRUE(listing().empty());
  r.json_out = path("out.json");
  const BatchResult b = batch(r);
  EXPECT_EQ(listing(), std::set<std::string>{"out.json"});
  EXPECT_EQ(file_text(path("out.json")), b.json_text);
}

TEST_F(ApiBatchTest, ReportsProgressUpToAFinalEvent) {
  BatchRequest r = sampled(3000);
  r.chunk = 500, r.chunk_given = true;
  std::vector<ProgressEvent> events;
  Control control;
  control.progress = [&](const ProgressEvent& e) { events.push_back(e); };
  batch(r, control);
  ASSERT_GE(events.size(), 2u);
  for (std::size_t k = 1; k < events.size(); ++k) EXPECT_GE(events[k].done, events[k - 1].done);
  EXPECT_TRUE(events.back().finished);
  EXPECT_EQ(events.back().done, 3000);
  EXPECT_EQ(events.back().total, 3000);
}

// A control that cancels its token at the first progress report.
Control cancelling() {
  Control c;
  c.progress = [token = c.cancel](const ProgressEvent&) { token.cancel(); };
  return c;
}

TEST_F(ApiBatchTest, CancelledCertifyWritesNothingAndTheNextCallRuns) {
  BatchRequest r = sampled(3000);
  r.certify = true;
  r.chunk = 200;
  r.json_out = path("out.json");
  r.csv_out = path("out.csv");
  EXPECT_THROW(batch(r, cancelling()), Cancelled);
  EXPECT_TRUE(listing().empty());
  const BatchResult again = batch(r);  // a fresh control: runs to its end
  EXPECT_EQ(again.certification->prompts.size(), 3000u);
  EXPECT_EQ(listing(), (std::set<std::string>{"out.csv", "out.json"}));
}

CompareRequest trained_run() {
  CompareRequest r;
  r.prompts.list = read_prompt_file(shipped("trained/heldout_prompts.json"));
  r.a = read_model_file(shipped("trained/trained_equivariant_model.json"));
  r.b = read_model_file(shipped("trained/trained_equivariant_extracted_model.json"));
  r.a_name = shipped("trained/trained_equivariant_model.json");
  r.b_name = shipped("trained/trained_equivariant_extracted_model.json");
  r.prompts_name = shipped("trained/heldout_prompts.json");
  r.predictions_file = shipped("trained/trained_equivariant_predictions.json");
  r.device = gpu::DeviceChoice::cpu;
  r.threads = 1;
  return r;
}

TEST_F(ApiBatchTest, CompareIsWhatTheCommandWrites) {
  CompareRequest r = trained_run();
  r.certify = true;
  const auto cli = testing::iclcert("compare --model " + r.a_name + " --against " + r.b_name + " --prompt " +
                                    r.prompts_name + " --predictions " + r.predictions_file +
                                    " --certify --device cpu --threads 1 --json " + path("cli.json") + " --csv " +
                                    path("cli.csv"));
  ASSERT_EQ(cli.status, 0) << cli.output;
  std::string printed;
  CompareResult c;
  printed = testing::captured_output([&] { c = compare(r); });
  EXPECT_EQ(printed, "");
  EXPECT_EQ(c.exit_status, 0);
  EXPECT_EQ(steady(c.json_text), steady(file_text(path("cli.json"))));
  EXPECT_EQ(c.csv_text, file_text(path("cli.csv")));
  ASSERT_TRUE(c.certify_a && c.certify_b);
  EXPECT_EQ(c.certify_a->prompts.size(), 1000u);
  EXPECT_EQ(listing(), (std::set<std::string>{"cli.csv", "cli.json"}));
}

TEST_F(ApiBatchTest, CancelledCompareWritesNothingAndTheNextCallRuns) {
  CompareRequest r = trained_run();
  r.certify = true;
  r.chunk = 100;
  r.json_out = path("out.json");
  EXPECT_THROW(compare(r, cancelling()), Cancelled);
  EXPECT_TRUE(listing().empty());
  const CompareResult again = compare(r);
  EXPECT_EQ(again.certify_b->prompts.size(), 1000u);
  EXPECT_EQ(file_text(path("out.json")), again.json_text);
}

}  // namespace
}  // namespace iclcert::api
