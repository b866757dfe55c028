// api::validate (issue 24): a user's own float run against certified predictions,
// on the shipped trained run's held-out prompts; and api::extract against the
// command's JSON.
#include "api/compare.hpp"
#include "api/extract.hpp"
#include "api/validate.hpp"
#include "io/model_io.hpp"
#include "io/prompt_io.hpp"
#include "captured_output.hpp"
#include "support/cli_runner.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace iclcert::api {
namespace {

std::string shipped(const std::string& name) { return std::string(ICLCERT_SOURCE_DIR) + "/examples/" + name; }

struct TrainedRun {
  std::vector<Prompt> prompts = read_prompt_file(shipped("trained/heldout_prompts.json"));
  Model model = read_model_file(shipped("trained/trained_equivariant_model.json"));
  ExportedPredictions exported = read_predictions(shipped("trained/trained_equivariant_predictions.json"),
                                                  static_cast<long>(prompts.size()), prompts.front().C);
  ValidateRequest request() const {
    ValidateRequest r;
    r.prompts.list = prompts;
    r.model = model;
    r.predictions = exported.classes;
    r.logits = exported.logits;
    r.threads = 1;
    return r;
  }
};

TEST(ApiValidateTest, FlipsAreThoseOfCompareCertify) {
  const TrainedRun run;
  ValidateResult v;
  EXPECT_EQ(testing::captured_output([&] { v = validate(run.request()); }), "");
  ASSERT_EQ(v.rows.size(), 1000u);
  EXPECT_EQ(v.summary.prompts, 1000);

  CompareRequest c;
  c.prompts.list = run.prompts;
  c.a = run.model;
  c.b = read_model_file(shipped("trained/trained_equivariant_extracted_model.json"));
  c.exported = run.exported;
  c.device = gpu::DeviceChoice::cpu;
  c.threads = 1;
  c.certify = true;
  const CompareResult r = compare(c);
  ASSERT_TRUE(r.certify_a.has_value());
  EXPECT_EQ(v.summary.flips, r.certify_a->flips);
  long certified = 0;
  for (std::size_t k = 0; k < v.rows.size(); ++k) {
    const gpu::PromptCertificate& p = r.certify_a->prompts[k];
    const ValidateRow& row = v.rows[k];
    EXPECT_EQ(row.certified.has_value(), p.status != gpu::CertStatus::undecided) << k;
    if (row.certified) {
      EXPECT_EQ(*row.certified, p.prediction) << k;
    }
    EXPECT_EQ(row.float_class, run.exported.classes[k]);
    EXPECT_EQ(row.flip, row.certified && *row.certified != row.float_class);
    EXPECT_LE(row.margin_lo, row.margin_hi);
    ASSERT_TRUE(row.float_margin.has_value());
    if (row.certified && !row.flip) {
      EXPECT_GT(*row.float_margin, 0) << k;  // the user's class leads its own logits
    }
    const auto& label = run.prompts[k].probe_label;
    EXPECT_EQ(row.label, label ? std::optional<int>(static_cast<int>(*label)) : std::nullopt) << k;
    certified += row.certified.has_value();
  }
  EXPECT_EQ(v.summary.certified, certified);
  EXPECT_EQ(v.exit_status, v.summary.flips > 0 ? 1 : 0);
}

TEST(ApiValidateTest, CertifiedAccuracyCountsLabelledCertifiedPrompts) {
  const TrainedRun run;
  ValidateRequest r = run.request();
  const ValidateResult v = validate(r);
  long labelled = 0, correct = 0;
  for (std::size_t k = 0; k < run.prompts.size(); ++k) {
    const auto& label = run.prompts[k].probe_label;
    if (!label || !v.rows[k].certified) continue;
    ++labelled;
    correct += *v.rows[k].certified == *label;
  }
  ASSERT_GT(labelled, 0);
  EXPECT_EQ(v.summary.labelled, labelled);
  EXPECT_EQ(v.summary.correct, correct);
  EXPECT_DOUBLE_EQ(*v.summary.certified_accuracy, static_cast<double>(correct) / labelled);

  // A class changed where the prediction is certified is one more flip, and exit 1.
  long k = 0;
  while (!v.rows[k].certified) ++k;
  r.predictions[k] = (r.predictions[k] + 1) % run.prompts.front().C;
  r.logits.clear();
  const ValidateResult planted = validate(r);
  EXPECT_EQ(planted.summary.flips, v.summary.flips + 1);
  EXPECT_TRUE(planted.rows[k].flip);
  EXPECT_FALSE(planted.rows[k].float_margin.has_value());
  EXPECT_EQ(planted.exit_status, 1);
}

TEST(ApiValidateTest, RefusesPredictionsThatAreNotOnePerPrompt) {
  const TrainedRun run;
  ValidateRequest r = run.request();
  r.predictions.pop_back();
  EXPECT_THROW(validate(r), std::invalid_argument);
  r = run.request();
  r.predictions[3] = 7;
  EXPECT_THROW(validate(r), std::invalid_argument);
}

TEST(ApiExtractTest, ResultIsWhatTheCommandWrites) {
  const std::string model = shipped("trained/trained_equivariant_model.json");
  const std::string dir = ::testing::TempDir();
  const std::string json = dir + "/api_extract_cli.json", csv = dir + "/api_extract_cli.csv";
  const auto cli = testing::iclcert("extract --model " + model + " --sample 4,3,16 --json " + json + " --csv " + csv);
  ASSERT_EQ(cli.status, 0) << cli.output;
  ExtractRequest r;
  r.model = read_model_file(model);
  r.model_name = model;
  r.d = 4, r.C = 3;
  const ExtractResult e = extract(r);
  auto text = [](const std::string& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };
  EXPECT_EQ(e.json_text, text(json));
  EXPECT_EQ(e.csv_text, text(csv));
  EXPECT_EQ(e.account + "  written: " + json + "\n  written: " + csv + "\n", cli.output);
  EXPECT_EQ(e.exit_status, 0);
  EXPECT_EQ(e.extraction.layers.size(), r.model.layers.size());
  std::remove(json.c_str()), std::remove(csv.c_str());
}

}  // namespace
}  // namespace iclcert::api
