// Reading and writing the files of docs/formats.md: exact numbers, round trips,
// and every kind of bad input named by file and field.
#include "io/input_error.hpp"
#include "io/model_io.hpp"
#include "io/prompt_io.hpp"
#include "io/trace_io.hpp"
#include "numerics/scalar_rational.hpp"
#include "support/instances.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>

namespace iclcert {
namespace {

const char* kSpecPrompt = R"({ "format": 1, "d": 2, "C": 3, "N": 4,
  "X": [["0.5", "-1"], ["1", "0"], ["-0.25", "2"], ["3", "1/3"]],
  "labels": [0, 2, 1, 1], "probe": ["0.25", "0.75"], "probe_label": 2 })";

const char* kSpecModel = R"({ "format": 1, "kernel": "softmax", "probe_label_init": "zero", "probe_is_key": false,
  "layers": [
    { "beta": "0.5", "gamma": "2", "alpha": "0.5", "alpha_label": "0.5" },
    { "beta": "0.5", "gamma": "2", "alpha": "0.5", "alpha_label": "0.5",
      "probe": { "beta": "1", "gamma": "0", "alpha": "1", "alpha_label": "1" } },
    { "heads": [ { "score": ["1","0","0","0","2","0"], "value": ["0.5","0","0","0","0.5","0"] } ] } ] })";

TEST(Formats, ReadsTheSpecExamplesExactly) {
  Prompt p = parse_prompts(Json::parse(kSpecPrompt), "prompt.json").at(0);
  EXPECT_EQ(p.d, 2);
  EXPECT_EQ(p.X(3, 1), Rational(1, 3));
  EXPECT_EQ(p.X(2, 0), Rational(-1, 4));
  EXPECT_EQ(p.labels, (std::vector<int>{0, 2, 1, 1}));
  EXPECT_EQ(*p.probe_label, 2);
  Model m = parse_model(Json::parse(kSpecModel), "model.json");
  ASSERT_EQ(m.layers.size(), 3u);
  const auto& l1 = std::get<ReducedLayer<Rational>>(m.layers[1]);
  ASSERT_TRUE(l1.probe.has_value());
  EXPECT_EQ(l1.probe->gamma, 0);
  const auto& l2 = std::get<FullLayer<Rational>>(m.layers[2]);
  EXPECT_EQ(l2.heads[0].score[4], 2);
}

TEST(Formats, JsonNumbersAreTheNearestDoubleExactly) {
  Json j = Json::parse(kSpecPrompt);
  j["X"][0][0] = 0.1;
  Prompt p = parse_prompts(j, "p.json").at(0);
  EXPECT_EQ(p.X(0, 0), rational_from_double(0.1));
  EXPECT_NE(p.X(0, 0), Rational(1, 10));
}

TEST(Formats, PromptAndModelRoundTrip) {
  Prompt p = testing::sampled(3, 4, 9, 11);
  Prompt back = parse_prompts(Json::parse(prompt_to_json(p).dump()), "x").at(0);
  EXPECT_EQ(back.X, p.X);
  EXPECT_EQ(back.labels, p.labels);
  EXPECT_EQ(back.probe, p.probe);
  Model m = parse_model(Json::parse(kSpecModel), "model.json");
  m.layers.push_back(testing::dense_from_full(std::get<FullLayer<Rational>>(m.layers[2]), 2, 3));
  Model mb = parse_model(Json::parse(model_to_json(m).dump()), "x");
  EXPECT_EQ(model_to_json(mb), model_to_json(m));
}

TEST(Formats, BatchFiles) {
  Json batch = {{"format", 1}, {"prompts", Json::array({prompt_to_json(testing::sampled(2, 2, 3, 1), false),
                                                        prompt_to_json(testing::sampled(2, 2, 3, 2), false)})}};
  EXPECT_EQ(parse_prompts(batch, "b.json").size(), 2u);
}

TEST(Formats, TraceWritesExactRationalsAndNullForUndefined) {
  Prompt p = parse_prompts(Json::parse(kSpecPrompt), "prompt.json").at(0);
  Model m = testing::model_of(Kernel::linear, {testing::reduced("1/2", "1", "1/3", "1")});
  Json j = trace_to_json(run_recursion<Rational>(p, m), "rational");
  EXPECT_EQ(j["arithmetic"], "rational");
  ASSERT_EQ(j["layers"].size(), 2u);
  EXPECT_EQ(j["layers"][0]["X"][3][1], "1/3");
  EXPECT_EQ(j["layers"][0]["metrics"]["probe_margin"], "0");
  EXPECT_TRUE(j["layers"][0]["metrics"].contains("probe_attention_same_class"));
  EXPECT_FALSE(j["layers"][1]["metrics"].contains("probe_attention_same_class"));
}

// Each bad input: InputError whose message names the file and the field.
struct BadCase {
  const char* what;
  std::function<void(Json&)> spoil;
  const char* field;
};

TEST(Formats, BadPromptsNameTheFileAndField) {
  const std::vector<BadCase> cases = {
      {"missing field", [](Json& j) { j.erase("labels"); }, "labels"},
      {"unknown field", [](Json& j) { j["colour"] = "red"; }, "colour"},
      {"short row", [](Json& j) { j["X"][2] = Json::array({"1"}); }, "X[2]"},
      {"long row", [](Json& j) { j["X"][2].push_back("1"); }, "X[2]"},
      {"too few rows", [](Json& j) { j["X"].erase(0); }, "X"},
      {"zero denominator", [](Json& j) { j["X"][1][0] = "1/0"; }, "X[1][0]"},
      {"not a number", [](Json& j) { j["probe"][1] = "pi"; }, "probe[1]"},
      {"label out of range", [](Json& j) { j["labels"][3] = 3; }, "labels[3]"},
      {"negative label", [](Json& j) { j["labels"][0] = -1; }, "labels[0]"},
      {"probe label out of range", [](Json& j) { j["probe_label"] = 7; }, "probe_label"},
      {"C < 2", [](Json& j) { j["C"] = 1; }, "C"},
      {"N < 1", [](Json& j) { j["N"] = 0; }, "N"},
      {"absurd N", [](Json& j) { j["N"] = 100000000; }, "N"},
      {"absurd d", [](Json& j) { j["d"] = 1 << 20; }, "d"},
      {"wrong format", [](Json& j) { j["format"] = 2; }, "format"},
      {"string size", [](Json& j) { j["d"] = "2"; }, "d"},
  };
  for (const auto& c : cases) {
    Json j = Json::parse(kSpecPrompt);
    c.spoil(j);
    try {
      parse_prompts(j, "bad_prompt.json");
      ADD_FAILURE() << c.what << ": accepted";
    } catch (const InputError& e) {
      EXPECT_EQ(e.file(), "bad_prompt.json") << c.what;
      EXPECT_EQ(e.field(), c.field) << c.what << ": " << e.what();
    }
  }
}

TEST(Formats, BadModelsNameTheFileAndField) {
  const std::vector<BadCase> cases = {
      {"unknown kernel", [](Json& j) { j["kernel"] = "relu"; }, "kernel"},
      {"missing coefficient", [](Json& j) { j["layers"][0].erase("gamma"); }, "layers[0].gamma"},
      {"unknown layer field", [](Json& j) { j["layers"][0]["delta"] = "1"; }, "layers[0].delta"},
      {"theta of 5", [](Json& j) { j["layers"][2]["heads"][0]["score"].erase(0); }, "layers[2].heads[0].score"},
      {"1/0 coefficient", [](Json& j) { j["layers"][1]["probe"]["alpha"] = "1/0"; }, "layers[1].probe.alpha"},
      {"no heads", [](Json& j) { j["layers"][2]["heads"] = Json::array(); }, "layers[2].heads"},
      {"probe_is_key not bool", [](Json& j) { j["probe_is_key"] = "yes"; }, "probe_is_key"},
      {"missing layers", [](Json& j) { j.erase("layers"); }, "layers"},
      {"non-square dense",
       [](Json& j) {
         j["layers"][2]["heads"][0] = {{"score_matrix", {{"1", "0"}, {"0"}}}, {"value_matrix", {{"1", "0"}, {"0", "1"}}}};
       },
       "layers[2].heads[0].score_matrix[1]"},
  };
  for (const auto& c : cases) {
    Json j = Json::parse(kSpecModel);
    c.spoil(j);
    try {
      parse_model(j, "bad_model.json");
      ADD_FAILURE() << c.what << ": accepted";
    } catch (const InputError& e) {
      EXPECT_EQ(e.file(), "bad_model.json") << c.what;
      EXPECT_EQ(e.field(), c.field) << c.what << ": " << e.what();
    }
  }
}

TEST(Formats, MalformedAndMissingFiles) {
  EXPECT_THROW(load_json_file("/nonexistent/prompt.json"), InputError);
  const std::string path = ::testing::TempDir() + "/malformed.json";
  { std::ofstream(path) << "{ \"format\": 1, "; }
  try {
    load_json_file(path);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("malformed JSON"), std::string::npos);
    EXPECT_EQ(e.file(), path);
  }
  // A JSON number too large for a double is not finite.
  { std::ofstream(path) << R"({"format":1,"d":1,"C":2,"N":1,"X":[[1e999]],"labels":[0],"probe":[0]})"; }
  EXPECT_THROW(read_prompt_file(path), InputError);
}

}  // namespace
}  // namespace iclcert
