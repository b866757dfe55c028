#include "io/prompt_io.hpp"

#include "io/limits.hpp"

namespace iclcert {
namespace {

std::vector<Rational> read_row(const JsonReader& r, int size) {
  r.expect_array_of_size(size);
  std::vector<Rational> row(size);
  for (int k = 0; k < size; ++k) row[k] = r.element(k).number();
  return row;
}

Prompt read_prompt(const JsonReader& r, bool format_required) {
  r.expect_object({"format", "d", "C", "N", "X", "labels", "probe", "probe_label"});
  if (format_required || r.has("format")) expect_format_1(r);
  Prompt p;
  p.d = r.field("d").integer(1, kMaxFeatures);
  p.C = r.field("C").integer(2, kMaxClasses);
  p.N = r.field("N").integer(1, kMaxTrainingPoints);
  if (static_cast<long>(p.N) * (p.d + p.C) > kMaxPromptEntries)
    r.field("N").fail("N * (d + C) = " + std::to_string(static_cast<long>(p.N) * (p.d + p.C)) +
                      " exceeds the limit of " + std::to_string(kMaxPromptEntries));
  JsonReader X = r.field("X");
  X.expect_array_of_size(p.N);
  p.X = Matrix<Rational>(p.N, p.d);
  for (int i = 0; i < p.N; ++i) {
    std::vector<Rational> row = read_row(X.element(i), p.d);
    for (int k = 0; k < p.d; ++k) p.X(i, k) = std::move(row[k]);
  }
  JsonReader labels = r.field("labels");
  labels.expect_array_of_size(p.N);
  for (int i = 0; i < p.N; ++i) p.labels.push_back(labels.element(i).integer(0, p.C - 1));
  p.probe = read_row(r.field("probe"), p.d);
  if (r.has("probe_label")) p.probe_label = r.field("probe_label").integer(0, p.C - 1);
  return p;
}

}  // namespace

std::vector<Prompt> parse_prompts(const Json& json, const std::string& file) {
  JsonReader root(file, json);
  if (!json.is_object()) root.fail("expected a JSON object (a prompt, or {\"format\": 1, \"prompts\": [...]})");
  if (json.contains("prompts")) {
    root.expect_object({"format", "prompts"});
    expect_format_1(root);
    JsonReader list = root.field("prompts");
    std::size_t n = list.expect_array(1, kMaxBatchPrompts);
    std::vector<Prompt> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) out.push_back(read_prompt(list.element(i), false));
    return out;
  }
  return {read_prompt(root, true)};
}

std::vector<Prompt> read_prompt_file(const std::string& path) { return parse_prompts(load_json_file(path), path); }

Json prompt_to_json(const Prompt& p, bool with_format) {
  Json j = Json::object();
  if (with_format) j["format"] = 1;
  j["d"] = p.d;
  j["C"] = p.C;
  j["N"] = p.N;
  Json X = Json::array();
  for (int i = 0; i < p.N; ++i) {
    Json row = Json::array();
    for (int k = 0; k < p.d; ++k) row.push_back(to_string(p.X(i, k)));
    X.push_back(row);
  }
  j["X"] = X;
  j["labels"] = p.labels;
  Json probe = Json::array();
  for (const auto& v : p.probe) probe.push_back(to_string(v));
  j["probe"] = probe;
  if (p.probe_label) j["probe_label"] = *p.probe_label;
  return j;
}

}  // namespace iclcert
