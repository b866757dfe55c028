// `iclcert sweep`, run as a user runs it: counts that add up, cells whose answer is
// known, a CSV that parses as numbers, output independent of the thread count, a
// refuted cell's counterexample that `check --replay` reproduces, bad input refused.
#include "support/cli_runner.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using iclcert::testing::iclcert;
using Sweep = iclcert::testing::CliTest;

const std::string kModel = std::string(ICLCERT_SOURCE_DIR) + "/examples/models/reduced4.json";

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::vector<std::string>> csv_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::stringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> cells;
    std::stringstream fields(line);
    for (std::string f; std::getline(fields, f, ',');) cells.push_back(f);
    if (!line.empty() && line.back() == ',') cells.emplace_back();
    rows.push_back(cells);
  }
  return rows;
}

bool is_number(const std::string& s) {
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return !s.empty() && *end == '\0';
}

// The CSV without its timing column (the last), the JSON without its "seconds".
std::string csv_without_seconds(const std::string& text) {
  std::string out;
  for (const auto& row : csv_rows(text)) {
    for (std::size_t k = 0; k + 1 < row.size(); ++k) out += row[k] + ",";
    out += "\n";
  }
  return out;
}

std::string json_without_seconds(const std::string& text) {
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(text);
  j.erase("seconds");
  for (auto& cell : j["cells"]) cell.erase("seconds");
  return j.dump();
}

const std::string kGrid = " --model " + kModel + " --grid beta=0:4:3 --grid gamma=0:4:3 --sample 2,3,12 --prompts 5 --no-progress";

TEST_F(Sweep, AThreeByThreeMapOfA2HasTheKnownCellsAndCountsThatAddUp) {
  std::filesystem::create_directories(path("cex"));
  const auto r = iclcert("sweep --claim A2" + kGrid + " --threads 2 --csv " + path("a.csv") + " --json " + path("a.json") +
                         " --counterexamples " + path("cex"));
  ASSERT_EQ(r.status, 0) << r.output;
  const auto rows = csv_rows(slurp(path("a.csv")));
  ASSERT_EQ(rows.size(), 10u);
  const std::vector<std::string> header = {"cell", "beta", "gamma", "beta_exact", "gamma_exact", "prompts", "proved",
                                           "refuted", "undecided", "refuting_prompt", "counterexample", "seconds"};
  EXPECT_EQ(rows[0], header);
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const auto& row = rows[i];
    ASSERT_EQ(row.size(), header.size()) << i;
    for (int k : {0, 1, 2, 5, 6, 7, 8, 11}) EXPECT_TRUE(is_number(row[k])) << "row " << i << " column " << header[k];
    EXPECT_EQ(std::stol(row[6]) + std::stol(row[7]) + std::stol(row[8]), 5) << "row " << i;
    // Cell i is (beta, gamma) = (2 ((i-1) / 3), 2 ((i-1) % 3)), the last axis fastest.
    EXPECT_EQ(std::stod(row[1]), 2.0 * ((i - 1) / 3)) << i;
    EXPECT_EQ(std::stod(row[2]), 2.0 * ((i - 1) % 3)) << i;
    // A refuted cell names its first refuting prompt and its counterexample file.
    EXPECT_EQ(std::stol(row[7]) > 0, !row[9].empty()) << i;
    EXPECT_EQ(std::stol(row[7]) > 0, !row[10].empty()) << i;
  }
  // beta = 0, gamma > 0: the Fisher ratio grows (claim A1's setting), so A2 holds
  // on every prompt; beta = gamma = 0 leaves the features as they are, an exact
  // tie that enclosures cannot decide.
  EXPECT_EQ(rows[2][6], "5");
  EXPECT_EQ(rows[3][6], "5");
  EXPECT_EQ(rows[1][8], "5");
  // beta = 2, gamma = 0 is refuted on the sampled prompts (measured: 4 of 5).
  EXPECT_GT(std::stol(rows[4][7]), 0);

  const auto j = nlohmann::json::parse(slurp(path("a.json")));
  EXPECT_EQ(j["claim"], "A2");
  EXPECT_EQ(j["cells"].size(), 9u);
  EXPECT_EQ(j["cells"][0]["undecided_reasons"].size(), 1u);
  long total = 0;
  for (const auto& c : j["cells"]) total += c["proved"].get<long>() + c["refuted"].get<long>() + c["undecided"].get<long>();
  EXPECT_EQ(total, 45);

  // The counterexample of cell 3 replays to the same verdict through `check --replay`.
  const auto replay = iclcert("check --replay " + rows[4][10]);
  EXPECT_EQ(replay.status, 0) << replay.output;
  EXPECT_NE(replay.output.find("recorded verdict: refuted"), std::string::npos) << replay.output;
  EXPECT_NE(replay.output.find("replay reproduces"), std::string::npos) << replay.output;
}

TEST_F(Sweep, TheOutputDoesNotDependOnTheThreadCount) {
  for (const char* n : {"1", "2"}) {
    const std::string t(n);
    const auto r = iclcert("sweep --claim A2 --metric gap" + kGrid + " --threads " + t + " --csv " + path(t + ".csv") +
                           " --json " + path(t + ".json"));
    ASSERT_EQ(r.status, 0) << r.output;
  }
  EXPECT_EQ(csv_without_seconds(slurp(path("1.csv"))), csv_without_seconds(slurp(path("2.csv"))));
  EXPECT_EQ(json_without_seconds(slurp(path("1.json"))), json_without_seconds(slurp(path("2.json"))));
}

TEST_F(Sweep, MarginAndE1AndA1CountEveryPrompt) {
  for (const std::string claim : {"margin", "E1", "A1"}) {
    const auto r = iclcert("sweep --claim " + claim + " --model " + kModel +
                           " --grid beta=0:1:2 --sample 2,3,8 --prompts 3 --no-progress --json " + path("m.json"));
    ASSERT_EQ(r.status, 0) << claim << ": " << r.output;
    const auto j = nlohmann::json::parse(slurp(path("m.json")));
    ASSERT_EQ(j["cells"].size(), 2u);
    for (const auto& c : j["cells"])
      EXPECT_EQ(c["proved"].get<long>() + c["refuted"].get<long>() + c["undecided"].get<long>(), 3) << claim;
    if (claim == "E1") {
      EXPECT_EQ(j["totals"]["proved"], 6) << "every reduced layer is equivariant";
    }
    // A1's hypotheses need beta = 0: the beta = 1 cell is undecided, with that reason.
    if (claim == "A1") {
      EXPECT_EQ(j["cells"][1]["undecided"], 3);
      EXPECT_NE(j["cells"][1]["undecided_reasons"].dump().find("hypotheses"), std::string::npos) << j.dump();
    }
  }
}

TEST_F(Sweep, BadInputIsRefusedNamingTheOption) {
  const std::string base = "sweep --claim A2 --model " + kModel + " --sample 2,3,12 --prompts 2 --no-progress ";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--grid beta=0:1", "--grid beta=0:1"},
      {"--grid beta=0:1:0", "COUNT"},
      {"--grid beta=0:1:99999999", "COUNT"},
      {"--grid beta=x:1:2", "--grid beta=x:1:2"},
      {"--grid delta=0:1:2", "unknown coefficient"},
      {"--grid beta=0:1:2 --grid beta=1:2:2", "gridded twice"},
  };
  for (const auto& [args, message] : cases) {
    const auto r = iclcert(base + args + " --csv " + path("x.csv"));
    EXPECT_EQ(r.status, 2) << args << ": " << r.output;
    EXPECT_NE(r.output.find(message), std::string::npos) << args << ": " << r.output;
    EXPECT_FALSE(std::filesystem::exists(path("x.csv"))) << args;
  }
  const auto gap = iclcert("sweep --claim A1 --metric gap --model " + kModel + " --grid beta=0:0:1 --sample 2,3,12");
  EXPECT_EQ(gap.status, 2) << gap.output;
  EXPECT_NE(gap.output.find("--metric"), std::string::npos) << gap.output;
  const auto full = iclcert("sweep --claim A2 --model " + std::string(ICLCERT_SOURCE_DIR) +
                            "/examples/models/perturbed-feature.json --grid beta=0:1:2 --sample 3,2,4 --prompts 1");
  EXPECT_EQ(full.status, 2) << full.output;
  EXPECT_NE(full.output.find("--model"), std::string::npos) << full.output;
  EXPECT_NE(full.output.find("not reduced"), std::string::npos) << full.output;
}

}  // namespace
