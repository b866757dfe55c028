// Exported predictions (`iclcert compare --predictions`): bytes -> JSON -> read_predictions,
// for the prompt and class counts of the seed corpus (4 prompts of 3 classes) and for the
// edge of no prompt at all.
#include "api/predictions_file.hpp"
#include "fuzz/fuzz_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace iclcert;
  const std::string text(reinterpret_cast<const char*>(data), size);
  Json json;
  if (!fuzz::judge([&] { json = parse_json_text(text, fuzz::kFile); })) return 0;
  fuzz::judge([&] { cli::read_predictions(json, fuzz::kFile, 4, 3); });
  fuzz::judge([&] { cli::read_predictions(json, fuzz::kFile, 0, 2); });
  return 0;
}
