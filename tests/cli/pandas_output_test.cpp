// Issue 15, item 4: output a notebook loads as it is. Every statistic of every
// JSON kind is a JSON number, every exact value stays a string with a NAME_float
// companion, and each --csv file has the documented columns and the very values
// of the JSON beside it. Also: a bad --csv path is exit 2 with nothing written,
// and a model file that is not JSON names the Python call that converts it.
#include "support/cli_runner.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using iclcert::testing::iclcert;
using Json = nlohmann::ordered_json;  // the files' key order
using Pandas = iclcert::testing::CliTest;

std::string source(const std::string& rel) { return std::string(ICLCERT_SOURCE_DIR) + "/" + rel; }
Json read_json(const std::string& path) { return Json::parse(std::ifstream(path)); }

// A CSV file as RFC 4180 reads it: quoted fields may hold commas, doubled quotes
// and line breaks. Returns the header and the rows, as text.
struct Csv {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::size_t column(const std::string& name) const {
    for (std::size_t k = 0; k < header.size(); ++k)
      if (header[k] == name) return k;
    ADD_FAILURE() << "no column " << name;
    return 0;
  }
  // A cell as pandas reads it: a number, NaN for an empty cell.
  double number(std::size_t row, const std::string& name) const {
    const std::string& s = rows.at(row).at(column(name));
    if (s.empty()) return std::nan("");
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    EXPECT_EQ(*end, '\0') << name << " row " << row << ": " << s << " is not a plain number";
    return v;
  }
};

Csv read_csv(const std::string& path) {
  std::stringstream ss;
  ss << std::ifstream(path).rdbuf();
  const std::string text = ss.str();
  std::vector<std::vector<std::string>> lines(1);
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') field += '"', ++i;
      else if (c == '"') quoted = false;
      else field += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      lines.back().push_back(std::move(field)), field.clear();
    } else if (c == '\n') {
      lines.back().push_back(std::move(field)), field.clear();
      lines.emplace_back();
    } else {
      field += c;
    }
  }
  EXPECT_TRUE(lines.back().empty() && field.empty()) << path << ": the last line does not end in a newline";
  lines.pop_back();
  Csv csv;
  if (lines.empty()) return csv;
  csv.header = lines.front();
  csv.rows.assign(lines.begin() + 1, lines.end());
  for (const auto& r : csv.rows) EXPECT_EQ(r.size(), csv.header.size()) << path;
  return csv;
}

// A JSON statistic as pandas reads it: a number, or NaN for null.
double statistic(const Json& j) {
  if (j.is_null()) return std::nan("");
  EXPECT_TRUE(j.is_number()) << "a statistic written as " << j.dump();
  return j.is_number() ? j.get<double>() : std::nan("");
}

void expect_same(double csv, double json, const std::string& what) {
  if (std::isnan(json)) EXPECT_TRUE(std::isnan(csv)) << what;
  else EXPECT_EQ(csv, json) << what;  // the same double: both round-trip
}

// A whole number of any length as (leading digits as a double) * 10^exponent.
double scaled(const std::string& digits, long& exponent) {
  const std::size_t kept = std::min<std::size_t>(digits.size(), 18);
  exponent += static_cast<long>(digits.size() - kept);
  return std::stod(digits.substr(0, kept));
}

// "p/q" or a decimal, the way the JSON writes exact numbers, as a double (close,
// not exact; p and q may have hundreds of digits).
double exact_value(const Json& j) {
  const std::string s = j.get<std::string>();
  const auto slash = s.find('/');
  if (slash == std::string::npos) return std::stod(s);
  const bool negative = s[0] == '-';
  long ep = 0, eq = 0;
  const double p = scaled(s.substr(negative ? 1 : 0, slash - (negative ? 1 : 0)), ep);
  const double q = scaled(s.substr(slash + 1), eq);
  return (negative ? -1 : 1) * p / q * std::pow(10.0, static_cast<double>(ep - eq));
}

std::string prompts(const std::string& file, int count) {
  EXPECT_EQ(iclcert("sample --sample 3,3,8 --count " + std::to_string(count) + " --seed 5 --out " + file).status, 0);
  return file;
}

TEST_F(Pandas, RunTraceHasFloatCompanionsAndTheCsvHoldsThem) {
  const std::string json = path("t.json"), csv = path("t.csv");
  auto r = iclcert("run --model " + source("examples/linear_model.json") + " --arith rational --json " + json +
                   " --csv " + csv);
  ASSERT_EQ(r.status, 0) << r.output;
  const Json j = read_json(json);
  const Csv c = read_csv(csv);
  EXPECT_EQ(c.header, (std::vector<std::string>{"arithmetic", "t", "fisher", "gap_ratio", "min_label_margin",
                                                 "probe_margin", "probe_alignment", "probe_attention_same_class",
                                                 "train_attention_same_class"}));
  ASSERT_EQ(c.rows.size(), j["layers"].size());
  for (std::size_t t = 0; t < c.rows.size(); ++t) {
    const Json& m = j["layers"][t]["metrics"];
    EXPECT_EQ(c.rows[t][0], "rational");
    for (const char* name : {"min_label_margin", "probe_margin", "probe_alignment"}) {
      ASSERT_TRUE(m[name].is_string()) << name << ": an exact value stays a string";
      const double f = statistic(m[std::string(name) + "_float"]);
      EXPECT_NEAR(f, exact_value(m[name]), 1e-12 * (1 + std::abs(f))) << name << " at t = " << t;
      expect_same(c.number(t, name), f, std::string(name) + " at t = " + std::to_string(t));
    }
    if (m["fisher"].is_string()) {
      expect_same(c.number(t, "fisher"), statistic(m["fisher_float"]), "fisher");
    } else if (m["fisher"].is_null()) {
      EXPECT_TRUE(m["fisher_float"].is_null());
    }
  }
}

TEST_F(Pandas, RunCsvHasARowPerArithmeticAndDepth) {
  const std::string csv = path("t.csv");
  auto r = iclcert("run --arith double --arith interval:128 --csv " + csv);
  ASSERT_EQ(r.status, 0) << r.output;
  const Csv c = read_csv(csv);
  ASSERT_EQ(c.rows.size(), 14u);  // the default model: 6 layers, t = 0..6, twice
  EXPECT_EQ(c.rows[0][0], "double");
  EXPECT_EQ(c.rows[7][0], "interval:128");
  // The interval run's midpoints agree with the double run to far below the table's digits.
  for (std::size_t t = 0; t < 7; ++t)
    EXPECT_NEAR(c.number(t, "probe_margin"), c.number(7 + t, "probe_margin"), 1e-9);
  // Issue 27: under interval:BITS the enclosures too, NAME_lo and NAME_hi after the
  // midpoints (empty on the double rows), and they hold the midpoint.
  const std::vector<std::string> metrics = {"fisher",          "gap_ratio",       "min_label_margin",
                                            "probe_margin",    "probe_alignment", "probe_attention_same_class",
                                            "train_attention_same_class"};
  ASSERT_EQ(c.header.size(), 2 + 3 * metrics.size());
  for (std::size_t k = 0; k < metrics.size(); ++k) {
    EXPECT_EQ(c.header[2 + k], metrics[k]);
    EXPECT_EQ(c.header[2 + metrics.size() + 2 * k], metrics[k] + "_lo");
    EXPECT_EQ(c.header[3 + metrics.size() + 2 * k], metrics[k] + "_hi");
  }
  for (std::size_t t = 0; t < 7; ++t) {
    for (const std::string& m : metrics) {
      EXPECT_TRUE(std::isnan(c.number(t, m + "_lo")) && std::isnan(c.number(t, m + "_hi"))) << "double row, " << m;
      const double lo = c.number(7 + t, m + "_lo"), mid = c.number(7 + t, m), hi = c.number(7 + t, m + "_hi");
      if (std::isnan(mid)) continue;  // an undefined ratio (t = 0) has no enclosure either
      EXPECT_LE(lo, mid) << m << " at t = " << t;
      EXPECT_LE(mid, hi) << m << " at t = " << t;
      EXPECT_LE(hi - lo, 1e-14 * (1 + std::abs(mid))) << m << ": 128 bits are thin (a few ulps once rounded out)";
    }
  }
  // Without an interval arithmetic, no enclosure columns.
  ASSERT_EQ(iclcert("run --arith double --csv " + path("d.csv")).status, 0);
  EXPECT_EQ(read_csv(path("d.csv")).header.size(), 2 + metrics.size());
}

TEST_F(Pandas, BatchStatisticsAreNumbersAndTheCsvRepeatsThem) {
  const std::string json = path("b.json"), csv = path("b.csv");
  auto r = iclcert("batch --sample 3,3,8 --count 40 --arith float64 --device cpu --threads 1 --validate 4 "
                   "--no-progress --json " + json + " --csv " + csv);
  ASSERT_EQ(r.status, 0) << r.output;
  const Json j = read_json(json);
  EXPECT_TRUE(j["accuracy"].is_number_float()) << j["accuracy"];
  EXPECT_EQ(statistic(j["accuracy"]), static_cast<double>(j["correct"].get<long>()) / j["labelled"].get<long>());
  for (const char* k : {"seconds", "validation_seconds"}) EXPECT_TRUE(j[k].is_number()) << k;
  const Csv c = read_csv(csv);
  std::vector<std::string> columns = {"t", "accuracy"};
  for (const auto& [name, _] : j["layers"][0]["metrics"].items()) columns.push_back("mean_" + name);
  for (const char* v : {"values", "outside", "max_ulps_outside", "max_relative_error", "stated_bound", "beyond_bound",
                        "flips"})
    columns.push_back(v);
  EXPECT_EQ(c.header, columns);
  ASSERT_EQ(c.rows.size(), j["layers"].size());
  for (std::size_t t = 0; t < c.rows.size(); ++t) {
    const Json& l = j["layers"][t];
    const std::string at = " at t = " + std::to_string(t);
    expect_same(c.number(t, "accuracy"), statistic(l["accuracy"]), "accuracy" + at);
    for (const auto& [name, s] : l["metrics"].items()) {
      for (const char* k : {"mean", "min", "max"}) statistic(s[k]);
      expect_same(c.number(t, "mean_" + name), statistic(s["mean"]), "mean_" + name + at);
    }
    const Json& v = j["validation"]["layers"][t];
    // Issue 27: the histogram's keys are identifiers (json_normalize makes them columns).
    std::vector<std::string> buckets;
    for (const auto& [name, _] : v["outside_ulps"].items()) buckets.push_back(name);
    EXPECT_EQ(buckets, (std::vector<std::string>{"inside", "le_1", "le_4", "le_16", "le_256", "le_65536", "gt_65536"}));
    for (const char* k : {"max_ulps_outside", "max_relative_error", "max_abs_error", "scale", "stated_bound"})
      statistic(v[k]);
    expect_same(c.number(t, "max_relative_error"), statistic(v["max_relative_error"]), "max_relative_error" + at);
    expect_same(c.number(t, "stated_bound"), statistic(v["stated_bound"]), "stated_bound" + at);
    EXPECT_EQ(c.number(t, "values"), v["values"].get<double>());
  }
}

TEST_F(Pandas, CertifiedMarginsKeepTheirEnclosureAndGainAFloat) {
  const std::string json = path("c.json"), csv = path("c.csv");
  auto r = iclcert("batch --sample 3,3,8 --count 12 --arith float64 --device cpu --threads 1 --certify "
                   "--no-progress --json " + json + " --csv " + csv);
  ASSERT_EQ(r.status, 0) << r.output;
  const Json cert = read_json(json)["certification"];
  for (const Json& p : cert["per_prompt"]) {
    ASSERT_TRUE(p["margin"][0].is_string() && p["margin"][1].is_string()) << "an enclosure stays strings";
    const double lo = std::stod(p["margin"][0].get<std::string>()), hi = std::stod(p["margin"][1].get<std::string>());
    const double mid = statistic(p["margin_float"]);
    EXPECT_LE(lo, mid);
    EXPECT_LE(mid, hi);
  }
  EXPECT_TRUE(cert["seconds"].is_number());
  const Csv c = read_csv(csv);
  EXPECT_EQ(c.header, (std::vector<std::string>{"t", "decided_float64", "fraction"}));
  ASSERT_EQ(c.rows.size(), cert["decided_float64_by_depth"].size());
  for (std::size_t t = 0; t < c.rows.size(); ++t) {
    expect_same(c.number(t, "fraction"), statistic(cert["decided_float64_by_depth"][t]["fraction"]), "fraction");
    EXPECT_EQ(c.number(t, "decided_float64"), cert["decided_float64_by_depth"][t]["decided"].get<double>());
  }
}

// The issue's own line: pd.DataFrame(c["layers"])["accuracy_a"].mean() must work.
TEST_F(Pandas, CompareStatisticsAreNumbersAndTheCsvRepeatsThem) {
  const std::string json = path("c.json"), csv = path("c.csv");
  auto r = iclcert("compare --model " + source("examples/default_model.json") + " --against " +
                   source("examples/default_model.json") + " --prompt " + prompts(path("prompts.json"), 16) +
                   " --arith float64 --device cpu --threads 1 --validate 2 --no-progress --json " + json + " --csv " + csv);
  ASSERT_EQ(r.status, 0) << r.output;
  const Json j = read_json(json);
  for (const char* k : {"agreement", "seconds", "certified_seconds"}) EXPECT_TRUE(j[k].is_number()) << k;
  for (const Json& b : j["baselines"])
    for (const char* k : {"accuracy", "agreement_a", "agreement_b"}) EXPECT_TRUE(b[k].is_number()) << k;
  const Csv c = read_csv(csv);
  EXPECT_EQ(c.header, (std::vector<std::string>{"t", "accuracy_a", "accuracy_b", "agreement", "agree",
                                                 "accuracy_nearest_class_mean", "accuracy_nearest_neighbour",
                                                 "accuracy_logistic_regression", "max_logit_deviation",
                                                 "mean_logit_deviation", "max_relative_logit_deviation",
                                                 "mean_relative_logit_deviation", "max_feature_deviation"}));
  ASSERT_EQ(c.rows.size(), j["layers"].size());
  double sum = 0;
  for (std::size_t t = 0; t < c.rows.size(); ++t) {
    const Json& l = j["layers"][t];
    for (const char* k : {"accuracy_a", "accuracy_b", "agreement", "max_logit_deviation", "mean_logit_deviation",
                          "max_relative_logit_deviation", "mean_relative_logit_deviation", "max_feature_deviation"})
      expect_same(c.number(t, k), statistic(l[k]), std::string(k) + " at t = " + std::to_string(t));
    EXPECT_EQ(c.number(t, "agree"), l["agree"].get<double>());
    EXPECT_EQ(c.number(t, "accuracy_nearest_neighbour"), statistic(j["baselines"][1]["accuracy"]));
    sum += statistic(l["accuracy_a"]);
    // The certified deviation: an enclosure of strings and its midpoint as a number.
    const Json& cd = l["certified"]["max_logit_deviation"];
    ASSERT_TRUE(cd[0].is_string() && cd[1].is_string());
    const double mid = statistic(l["certified"]["max_logit_deviation_float"]);
    EXPECT_LE(std::stod(cd[0].get<std::string>()), mid);
    EXPECT_LE(mid, std::stod(cd[1].get<std::string>()));
  }
  EXPECT_GT(sum / c.rows.size(), 0.0);  // the mean of accuracy_a, as pandas would take it
  for (const Json& p : j["certified"]) EXPECT_EQ(p["logits_a_float"].size(), p["logits_a"].size());
}

TEST_F(Pandas, ExtractResidualsAreNumbersAndCoefficientsHaveFloats) {
  const std::string json = path("e.json"), csv = path("e.csv");
  auto r = iclcert("extract --model " + source("examples/trained/trained_equivariant_model.json") + " --json " + json +
                   " --csv " + csv);
  ASSERT_EQ(r.status, 0) << r.output;
  const Json j = read_json(json);
  EXPECT_TRUE(j["max_residual"].is_number() && j["max_fit_error"].is_number());
  const Csv c = read_csv(csv);
  EXPECT_EQ(c.header, (std::vector<std::string>{"layer", "head", "source", "residual_score", "residual_value", "beta",
                                                 "gamma", "alpha", "alpha_label", "fit_error_score",
                                                 "fit_error_value"}));
  std::size_t row = 0;
  for (const Json& l : j["layers"]) {
    for (const char* k : {"beta", "gamma", "alpha", "alpha_label"}) {
      ASSERT_TRUE(l["reduced"][k].is_string()) << "a coefficient stays exact";
      const double f = statistic(l["reduced_float"][k]);
      EXPECT_NEAR(f, exact_value(l["reduced"][k]), 1e-12 * (1 + std::abs(f))) << k;
    }
    for (const Json& h : l["heads"]) {
      for (const char* m : {"score", "value"}) {
        ASSERT_EQ(h[m]["theta_float"].size(), 6u);
        for (int k = 0; k < 6; ++k)
          EXPECT_NEAR(statistic(h[m]["theta_float"][k]), exact_value(h[m]["theta"][k]), 1e-9);
        EXPECT_TRUE(h[m]["norm"].is_number());
      }
      ASSERT_LT(row, c.rows.size());
      EXPECT_EQ(c.number(row, "layer"), l["layer"].get<double>());
      expect_same(c.number(row, "residual_score"), statistic(h["score"]["residual"]), "residual_score");
      expect_same(c.number(row, "residual_value"), statistic(h["value"]["residual"]), "residual_value");
      expect_same(c.number(row, "fit_error_score"), statistic(l["fit_error"]["score"]), "fit_error_score");
      expect_same(c.number(row, "beta"), statistic(l["reduced_float"]["beta"]), "beta");
      ++row;
    }
  }
  EXPECT_EQ(row, c.rows.size());
}

// A column pandas reads as integers: every cell a whole number, none empty.
void expect_integer_column(const Csv& c, const std::string& name) {
  for (std::size_t k = 0; k < c.rows.size(); ++k) {
    const std::string& cell = c.rows[k].at(c.column(name));
    EXPECT_TRUE(!cell.empty() && cell.find_first_not_of("0123456789-") == std::string::npos)
        << name << " row " << k << ": \"" << cell << "\"";
  }
}

#ifdef ICLCERT_HAVE_PROPERTIES
// Issue 27: E1 and E3 rows in one file made every integer column a float column.
TEST_F(Pandas, FuzzEquivarianceWritesOneCsvPerTable) {
  const std::string e1 = path("e1.csv"), e3 = path("e3.csv");
  auto r = iclcert("fuzz --property equivariance --model " + source("examples/models/equivariant.json") +
                   " --sample 3,2,6 --cases 4 --seed 3 --csv " + e1 + " --e3-csv " + e3);
  ASSERT_EQ(r.status, 0) << r.output;
  const Csv a = read_csv(e1);
  EXPECT_EQ(a.header, (std::vector<std::string>{"kind", "relative", "exceeds", "case", "layer", "row", "column",
                                                 "permutation"}));
  ASSERT_EQ(a.rows.size(), 3u);  // feature, label, token
  for (const char* k : {"exceeds", "case", "layer", "row", "column"}) expect_integer_column(a, k);
  for (std::size_t k = 0; k < a.rows.size(); ++k) EXPECT_GE(a.number(k, "layer"), 1) << "layers from 1";
  const Csv b = read_csv(e3);
  EXPECT_EQ(b.header, (std::vector<std::string>{"layer", "head", "matrix", "residual", "theta1", "theta2", "theta3",
                                                 "theta4", "theta5", "theta6"}));
  ASSERT_GE(b.rows.size(), 2u);
  for (const char* k : {"layer", "head"}) expect_integer_column(b, k);
  EXPECT_EQ(b.number(0, "head"), 0) << "heads from 0";
  for (std::size_t k = 0; k < b.rows.size(); ++k) {
    EXPECT_TRUE(b.rows[k][2] == "score" || b.rows[k][2] == "value") << b.rows[k][2];
    EXPECT_LT(b.number(k, "residual"), 1e-9);  // an equivariant model: residual 0 up to rounding
  }
  // --e3-csv alone, and not beside another property.
  EXPECT_EQ(iclcert("fuzz --property E2 --cases 2 --seed 1 --e3-csv " + path("x.csv")).status, 2);
  EXPECT_FALSE(fs::exists(path("x.csv")));
}
#endif

// Issue 27: the R1 map's ranges were exact texts only ("1/8"); beside them now the
// nearest doubles, NAME_lo_float and NAME_hi_float.
TEST_F(Pandas, TheR1MapCsvHasFloatColumnsBesideTheExactOnes) {
  const std::string csv = path("map.csv");
  auto r = iclcert("check --claim R1 --box alpha=1/8:1 --budget 4 --map --no-progress --map-csv " + csv);
  ASSERT_LE(r.status, 3) << r.output;
  const Csv c = read_csv(csv);
  EXPECT_EQ(c.header, (std::vector<std::string>{"region", "status", "volume", "volume_exact", "depth", "alpha_lo",
                                                 "alpha_hi", "alpha_lo_float", "alpha_hi_float"}));
  ASSERT_GE(c.rows.size(), 1u);
  double total = 0, lowest = 1, highest = 0;
  for (std::size_t k = 0; k < c.rows.size(); ++k) {
    for (const char* end : {"lo", "hi"}) {
      const std::string name = std::string("alpha_") + end;
      EXPECT_NEAR(c.number(k, name + "_float"), exact_value(Json(c.rows[k][c.column(name)])), 1e-15) << name;
    }
    EXPECT_LT(c.number(k, "alpha_lo_float"), c.number(k, "alpha_hi_float"));
    total += c.number(k, "volume");
    lowest = std::min(lowest, c.number(k, "alpha_lo_float"));
    highest = std::max(highest, c.number(k, "alpha_hi_float"));
  }
  EXPECT_NEAR(total, 1.0, 1e-12);
  EXPECT_EQ(lowest, 0.125) << "the regions cover the box, 1/8 to 1";
  EXPECT_EQ(highest, 1.0);
}

// Issue 27: undecided_reasons' keys were prose ("enclosures too wide at 1024 bits
// (raise --max-prec)"), columns with spaces under json_normalize. Now identifiers,
// and the prose, per identifier, in undecided_details.
TEST_F(Pandas, SweepUndecidedReasonsAreIdentifiers) {
  const std::string json = path("s.json");
  auto r = iclcert("sweep --claim A1 --grid beta=0:1:2 --sample 2,3,8 --count 2 --threads 1 --no-progress --json " + json);
  ASSERT_EQ(r.status, 0) << r.output;
  const Json j = read_json(json);
  const std::set<std::string> known = {"enclosures_too_wide", "precision_cannot_decide", "hypotheses_fail"};
  bool hypotheses = false;
  for (const Json& cell : j["cells"]) {
    ASSERT_EQ(cell["undecided_reasons"].size(), cell["undecided_details"].size()) << cell.dump();
    long undecided = 0;
    for (const auto& [id, n] : cell["undecided_reasons"].items()) {
      EXPECT_TRUE(known.contains(id)) << id;
      EXPECT_TRUE(cell["undecided_details"].contains(id)) << id;
      undecided += n.get<long>();
      hypotheses = hypotheses || id == "hypotheses_fail";
    }
    EXPECT_EQ(undecided, cell["undecided"].get<long>());
  }
  EXPECT_TRUE(hypotheses) << "A1 with beta = 1: its hypotheses fail";
  EXPECT_NE(j["cells"][1]["undecided_details"]["hypotheses_fail"].get<std::string>().find("hypotheses do not hold"),
            std::string::npos);
}

// Issue 27: docs/formats.md showed the batch file's "accuracy" as a string.
TEST(PandasDocs, TheBatchExampleShowsStatisticsAsNumbers) {
  std::stringstream ss;
  ss << std::ifstream(source("docs/formats.md")).rdbuf();
  const std::string doc = ss.str();
  const auto section = doc.find("## Batch results");
  ASSERT_NE(section, std::string::npos);
  const auto begin = doc.find("```json", section), end = doc.find("```", begin + 7);
  ASSERT_NE(end, std::string::npos);
  const std::string example = doc.substr(begin, end - begin);
  for (const char* k : {"\"accuracy\": ", "\"seconds\": ", "\"validation_seconds\": "}) {
    const auto at = example.find(k);
    ASSERT_NE(at, std::string::npos) << k;
    EXPECT_NE(example[at + std::string(k).size()], '"') << example.substr(at, 40);
  }
}

TEST_F(Pandas, ABadCsvPathIsExitTwoAndWritesNothing) {
  const std::string json = path("t.json");
  auto r = iclcert("run --arith double --json " + json + " --csv " + path("missing/t.csv"));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("--csv"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(json));
  // The same path for --json and --csv, and a --csv that is an input: refused.
  EXPECT_EQ(iclcert("run --arith double --json " + json + " --csv " + json).status, 2);
  const std::string model = write("m.json", R"({"format": 1, "layers": [
    { "beta": "1/2", "gamma": "1", "alpha": "1/2", "alpha_label": "1/2" } ]})");
  EXPECT_EQ(iclcert("extract --model " + model + " --sample 2,2,1 --csv " + path("e.csv")).status, 0);
  EXPECT_EQ(iclcert("extract --model " + model + " --sample 2,2,1 --csv " + model).status, 2);
  // A command that fails leaves an existing CSV file as it was.
  const std::string kept = write("kept.csv", "old\n");
  EXPECT_EQ(iclcert("run --arith rational --csv " + kept).status, 2);  // rational softmax: refused
  std::stringstream ss;
  ss << std::ifstream(kept).rdbuf();
  EXPECT_EQ(ss.str(), "old\n");
}

TEST_F(Pandas, AModelFileThatIsNotJsonNamesTheConversion) {
  struct Case {
    std::string name, bytes, kind;
  };
  const std::vector<Case> cases = {
      {"weights.pt", std::string("PK\x03\x04", 4) + "archive/data.pkl", "PyTorch"},
      {"weights.npz", std::string("PK\x03\x04", 4) + "arr_0.npy", "NumPy"},
      {"weights.bin", std::string("\x10\x00\x00\x00\x00\x00\x00\x00", 8) + "{\"w\":{}}      ", "safetensors"},
      {"weights.pth", "\x80\x02\x8a\x0alegacy", "pickle"},
      {"truncated.json", "{\"format\": 1,", "malformed JSON"},
  };
  for (const Case& c : cases) {
    const std::string file = write(c.name, c.bytes);
    for (const std::string command : {"run --model ", "extract --sample 2,2,1 --model "}) {
      auto r = iclcert(command + file);
      EXPECT_EQ(r.status, 2) << command << c.name << ": " << r.output;
      EXPECT_NE(r.output.find(c.kind), std::string::npos) << c.name << ": " << r.output;
      EXPECT_NE(r.output.find("iclcert.torch.load_weights(\"" + file + "\""), std::string::npos) << r.output;
      EXPECT_NE(r.output.find("examples/train/train.py"), std::string::npos) << r.output;
      EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << "one line: " << r.output;
    }
  }
  // A JSON model whose name says .pt is read as JSON all the same.
  const std::string json_named_pt = write("model.pt", R"({"format": 1, "kernel": "linear",
    "layers": [ { "beta": "1/2", "gamma": "1", "alpha": "1/2", "alpha_label": "1/2" } ] })");
  EXPECT_EQ(iclcert("run --arith rational --model " + json_named_pt).status, 0);
}

}  // namespace
