// The batch prompt-file reader (`batch --prompt-file`, `compare --prompt-file`): bytes ->
// JSON -> parse_prompts -> gpu::prompts_from_list, then what a float run does with the
// source before any arithmetic: its finiteness check for the run's float type and the
// rounding of every prompt into a block. Beyond the readers' contract (fuzz_target.hpp):
// a source that passes require_finite for a float type fills finite numbers only, so that
// a number such as "1e4000" (or "1e39" in float32) is refused, never run as an infinity.
#include "fuzz/fuzz_target.hpp"
#include "gpu/batch_run.hpp"
#include "io/prompt_io.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace {

using namespace iclcert;

template <class T>
void expect_finite(const std::vector<T>& values, const char* what, gpu::BatchArith arith) {
  for (const T x : values)
    if (!std::isfinite(x))
      fuzz::finding("a non-finite input past require_finite",
                    std::string(what) + " in " + gpu::to_string(arith) + ": " + std::to_string(x));
}

// Every prompt in chunks (as a run fills them), after the check a run makes first.
template <class T>
void fill_all(const gpu::PromptSource& source, gpu::BatchArith arith) {
  source.require_finite(arith);
  gpu::PromptBlock<T> block;
  constexpr long kChunk = 64;
  for (long first = 0; first < source.size(); first += kChunk) {
    source.fill(first, static_cast<int>(std::min(kChunk, source.size() - first)), block);
    expect_finite(block.X, "X", arith);
    expect_finite(block.probe, "probe", arith);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return fuzz::run_reader(data, size, [](const std::string& text) {
    const auto source =
        gpu::prompts_from_list(parse_prompts(parse_json_text(text, fuzz::kFile), fuzz::kFile), fuzz::kFile);
    // Each float type on its own: "1e39" is a finite float64 but not a finite float32.
    fuzz::judge([&] { fill_all<float>(*source, gpu::BatchArith::float32); });
    fuzz::judge([&] { fill_all<double>(*source, gpu::BatchArith::float64); });
  });
}
