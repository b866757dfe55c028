#include "api/predictions_file.hpp"

#include "io/limits.hpp"

#include <cmath>

namespace iclcert::api {

ExportedPredictions read_predictions(const Json& json, const std::string& file, long B, int C) {
  JsonReader root(file, json);
  root.expect_object({"format", "model", "prompts", "arithmetic", "predictions", "probe_logits"});
  expect_format_1(root);
  ExportedPredictions p;
  if (root.has("arithmetic")) p.arithmetic = root.field("arithmetic").string();
  // Notes for the reader of the file; checked to be strings, not used.
  if (root.has("model")) root.field("model").string();
  if (root.has("prompts")) root.field("prompts").string();
  const JsonReader list = root.field("predictions");
  if (static_cast<long>(list.expect_array(0, kMaxBatchPrompts)) != B)
    list.fail("one class per prompt of the prompt file (" + std::to_string(B) + " prompts), found " +
              std::to_string(list.value().size()));
  for (long k = 0; k < B; ++k) p.classes.push_back(static_cast<int>(list.element(k).integer(0, C - 1)));
  if (root.has("probe_logits")) {
    const JsonReader logits = root.field("probe_logits");
    logits.expect_array_of_size(B);
    p.logits.reserve(static_cast<std::size_t>(B) * C);
    for (long k = 0; k < B; ++k) {
      const JsonReader row = logits.element(k);
      row.expect_array_of_size(C);
      for (int c = 0; c < C; ++c) {
        const JsonReader entry = row.element(c);
        const double v = nearest_double(entry.number());
        // A trainer's float logits are finite; beyond the double range the deviation would be NaN.
        if (!std::isfinite(v)) entry.fail("a number within the range of a double");
        p.logits.push_back(v);
      }
    }
  }
  return p;
}

ExportedPredictions read_predictions(const std::string& path, long B, int C) {
  return read_predictions(load_json_file(path), path, B, C);
}

}  // namespace iclcert::api
