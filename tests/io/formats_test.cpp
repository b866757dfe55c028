// Reading and writing the files of docs/formats.md: exact numbers, round trips,
// and every kind of bad input named by file and field.
#include "io/input_error.hpp"
#include "io/limits.hpp"
#include "io/output_file.hpp"
#include "io/model_io.hpp"
#include "io/prompt_io.hpp"
#include "io/trace_io.hpp"
#include "numerics/scalar_rational.hpp"
#include "support/instances.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <unistd.h>

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

// The message of the InputError that `f` throws ("" when it throws none).
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

std::string temp_file(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// Sets an environment variable for the scope of a test.
struct ScopedEnv {
  std::string name;
  ScopedEnv(const char* n, const char* value) : name(n) { ::setenv(n, value, 1); }
  ~ScopedEnv() { ::unsetenv(name.c_str()); }
};

// Issue 16: JSON nested 10^5 deep overflowed the stack of the parser (SIGSEGV).
TEST(Hostile, DeepNestingIsRefusedWithItsPath) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  std::string text = kSpecPrompt;
  text.replace(text.find("\"N\": 4"), 6, "\"N\": " + deep);
  const std::string path = temp_file("deep.json", text);
  const std::string e = error_of([&] { load_json_file(path); });
  EXPECT_NE(e.find("nested deeper than 64"), std::string::npos) << e;
  EXPECT_NE(e.find("field N"), std::string::npos) << e;
  // 64 levels are accepted, 65 are not.
  EXPECT_NO_THROW(parse_json_text(std::string(64, '[') + std::string(64, ']'), "x"));
  EXPECT_THROW(parse_json_text(std::string(65, '[') + std::string(65, ']'), "x"), InputError);
}

// Issue 16: error messages dumped the offending value whole.
TEST(Hostile, MessagesShowAValueShortened) {
  Json j = Json::parse(kSpecPrompt);
  j["N"] = Json::array();
  for (int k = 0; k < 100000; ++k) j["N"].push_back(k);
  const std::string e = error_of([&] { parse_prompts(j, "p.json"); });
  EXPECT_NE(e.find("field N: expected an integer, got [0, 1, 2"), std::string::npos) << e;
  EXPECT_LT(e.size(), 160u) << e;
  EXPECT_EQ(describe_json(Json(std::string(1000, 'x'))).size(), 63u);  // 60 characters and "..."
  EXPECT_EQ(describe_json(Json::parse("[[[[[1]]]]]")), "[[[[...]]]]");
}

// Issue 16: the last of two equal keys silently won.
TEST(Hostile, DuplicateKeysAreRefused) {
  std::string text = kSpecPrompt;
  text.replace(text.find("\"probe_label\": 2"), 16, "\"probe_label\": 2, \"probe_label\": 1");
  const std::string e = error_of([&] { load_json_file(temp_file("dup.json", text)); });
  EXPECT_NE(e.find("field probe_label: appears twice"), std::string::npos) << e;
  // The same key in two objects is no duplicate; in a nested object it is named by its path.
  EXPECT_NO_THROW(parse_json_text(R"([{"a": 1}, {"a": 2}])", "x"));
  const std::string nested = error_of([] { parse_json_text(R"({"p": [{"a": 1}, {"b": 1, "b": 2}]})", "x"); });
  EXPECT_NE(nested.find("field p[1].b"), std::string::npos) << nested;
}

// Found by the fuzz campaign (fuzz/crashes/predictions): a key holding a newline
// was echoed as it is, and the one-line error spanned two lines; a huge key would
// fill the screen.
TEST(Hostile, NamesFromTheFileAreShownOnOneLine) {
  const std::string newline = error_of([] { parse_model(parse_json_text("{\"a\\nb\": 1}", "m.json"), "m.json"); });
  EXPECT_EQ(newline.find('\n'), std::string::npos) << newline;
  EXPECT_NE(newline.find("field a\\x0ab: unknown field"), std::string::npos) << newline;
  const std::string huge = error_of([] {
    parse_model(parse_json_text("{\"" + std::string(100000, 'k') + "\": 1}", "m.json"), "m.json");
  });
  EXPECT_LT(huge.size(), 500u);
  EXPECT_NE(huge.find("kkk...: unknown field"), std::string::npos) << huge.substr(0, 300);
}

// Issue 16: /dev/zero or a huge file as input grew to 4 GB before failing.
TEST(Hostile, InputSizeIsCapped) {
  const std::string path = temp_file("big.json", std::string(2000, ' ') + "{}");
  {
    ScopedEnv cap("ICLCERT_MAX_INPUT_BYTES", "1000");
    const std::string e = error_of([&] { load_json_file(path); });
    EXPECT_NE(e.find("ICLCERT_MAX_INPUT_BYTES"), std::string::npos) << e;
    const std::string zero = error_of([] { load_json_file("/dev/zero"); });
    EXPECT_NE(zero.find("larger than 1000 bytes"), std::string::npos) << zero;
  }
  EXPECT_NO_THROW(load_json_file(path));
  EXPECT_EQ(limit(Limit::input_bytes), 256u << 20);
  ScopedEnv bad("ICLCERT_MAX_INPUT_BYTES", "lots");
  EXPECT_NE(error_of([&] { load_json_file(path); }).find("ICLCERT_MAX_INPUT_BYTES"), std::string::npos);
}

TEST(Hostile, JsonValueCountIsCapped) {
  ScopedEnv cap("ICLCERT_MAX_JSON_VALUES", "100");
  auto zeros = [](int n) {
    std::string t = "[0";
    for (int k = 1; k < n; ++k) t += ",0";
    return t + "]";
  };
  EXPECT_NO_THROW(parse_json_text(zeros(99), "x"));  // the array and 99 numbers
  EXPECT_NE(error_of([&] { parse_json_text(zeros(100), "x"); }).find("ICLCERT_MAX_JSON_VALUES"), std::string::npos);
}

// Issue 16: a 200 MB number string ran for minutes.
TEST(Hostile, LongNumbersAreRefusedAtOnce) {
  EXPECT_EQ(parse_rational("1" + std::string(9999, '0')),
            Rational(boost::multiprecision::pow(boost::multiprecision::mpz_int(10), 9999)));
  try {
    parse_rational("1" + std::string(10000, '0'));
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("longer than 10000"), std::string::npos);
  }
  Json j = Json::parse(kSpecModel);
  j["layers"][0]["beta"] = std::string(200000, '7');
  const std::string e = error_of([&] { parse_model(j, "m.json"); });
  EXPECT_NE(e.find("layers[0].beta"), std::string::npos) << e;
  EXPECT_LT(e.size(), 250u) << e;
}

// Issue 16: dense model files did not record d and C, so a wrong split ran silently.
TEST(Formats, DenseModelsRecordDAndC) {
  Model m = parse_model(Json::parse(kSpecModel), "model.json");
  m.layers.push_back(testing::dense_from_full(std::get<FullLayer<Rational>>(m.layers[2]), 2, 3));
  EXPECT_FALSE(model_to_json(m).contains("d"));  // not known
  fill_split(m, 2, 3);  // what every command does once the model meets a prompt
  const Json j = model_to_json(m);
  EXPECT_EQ(j["d"], 2);
  EXPECT_EQ(j["C"], 3);
  const Model back = parse_model(j, "m.json");
  EXPECT_EQ(back.d, 2);
  EXPECT_EQ(back.C, 3);
  EXPECT_NO_THROW(require_model_fits(back, 2, 3, "m.json", "the prompt"));
  const std::string e = error_of([&] { require_model_fits(back, 1, 4, "m.json", "--sample 1,4,8"); });
  EXPECT_NE(e.find("m.json: field d: the model is for d = 2, C = 3, but --sample 1,4,8 has d = 1, C = 4"),
            std::string::npos) << e;
  // Optional on read (old files); both or neither; they must agree with the matrices.
  Json old = j;
  old.erase("d");
  old.erase("C");
  EXPECT_EQ(parse_model(old, "m.json").d, 0);
  Json half = j;
  half.erase("C");
  EXPECT_NE(error_of([&] { parse_model(half, "m.json"); }).find("field C"), std::string::npos);
  Json wrong = j;
  wrong["d"] = 3;
  EXPECT_NE(error_of([&] { parse_model(wrong, "m.json"); }).find("d + C = 6 but the dense matrices are 5 x 5"),
            std::string::npos);
}

// Issue 16: outputs may not overwrite inputs, and a failed command writes none.
TEST(Outputs, RefusesInputsDirectoriesAndMissingDirectories) {
  const std::string in = temp_file("input.json", "{}");
  EXPECT_NE(error_of([&] { Outputs({in}).declare("--json", in); }).find("is also an input"), std::string::npos);
  std::filesystem::create_symlink(in, ::testing::TempDir() + "/link.json");
  EXPECT_NE(error_of([&] { Outputs({in}).declare("--json", ::testing::TempDir() + "/link.json"); }).find("--json"),
            std::string::npos);
  std::filesystem::remove(::testing::TempDir() + "/link.json");
  EXPECT_NE(error_of([] { Outputs().declare("--out", ::testing::TempDir()); }).find("is a directory"), std::string::npos);
  EXPECT_NE(error_of([] { Outputs().declare("--out", "/nonexistent/dir/x.json"); }).find("does not exist"),
            std::string::npos);
  const std::string a = ::testing::TempDir() + "/a.json", b = ::testing::TempDir() + "/b.json";
  std::filesystem::remove(a);
  {
    Outputs out;
    out.declare("--out", a);
    out.declare("--json", b);
    out.set(a, "A");
    out.stream(b) << "B";
    EXPECT_FALSE(std::filesystem::exists(a));  // nothing before commit
  }
  EXPECT_FALSE(std::filesystem::exists(a));  // nor after a command that did not commit
  EXPECT_FALSE(std::filesystem::exists(b + ".tmp." + std::to_string(::getpid())));
  Outputs out;
  out.declare("--out", a);
  out.set(a, "A");
  out.commit();
  std::ifstream back(a);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(back), {}), "A");
}

// Issue 16: the atomic rename replaced device nodes and links with regular files.
TEST(Outputs, DevicesAndLinksStayWhatTheyAre) {
  write_output("/dev/null", "text");
  EXPECT_TRUE(std::filesystem::is_character_file("/dev/null"));
  EXPECT_THROW(write_output("/dev/full", "text"), InputError);
  EXPECT_TRUE(std::filesystem::is_character_file("/dev/full"));
  const std::string target = temp_file("target.json", "old"), link = ::testing::TempDir() + "/via-link.json";
  std::filesystem::remove(link);
  std::filesystem::create_symlink(target, link);
  write_output(link, "new");
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  std::ifstream back(target);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(back), {}), "new");
  std::filesystem::remove(link);
}

}  // namespace
}  // namespace iclcert
