#include "api/sample.hpp"

#include "api/instance.hpp"
#include "io/input_error.hpp"
#include "io/limits.hpp"
#include "io/output_file.hpp"
#include "io/prompt_io.hpp"

#include <ostream>

namespace iclcert::api {
namespace {

// A prompt of a batch, indented as the batch's dump(1) would indent it.
std::string batch_element_text(const Prompt& p) {
  std::string text = "  " + prompt_to_json(p, false).dump(1);
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    out += c;
    if (c == '\n') out += "  ";
  }
  return out;
}

void check_request(const SampleRequest& rq) {
  const SamplerOptions& s = rq.sampler;
  if (s.margin < 0) throw std::invalid_argument("--margin " + to_string(s.margin) + ": expected a number >= 0");
  const std::string sizes = std::to_string(s.d) + "," + std::to_string(s.C) + "," + std::to_string(s.N);
  check_prompt_sizes(rq.sizes_option, sizes, s.d, s.C, s.N);
  if (rq.count < 1) throw std::invalid_argument("--count " + std::to_string(rq.count) + ": expected 1 or more");
  const std::uint64_t entries = static_cast<std::uint64_t>(rq.count) * s.N * (s.d + s.C);
  if (entries > limit(Limit::sample_entries))
    throw std::invalid_argument("--count " + std::to_string(rq.count) + ": count * N * (d + C) = " +
                                std::to_string(entries) + " numbers to write " + beyond_limit(Limit::sample_entries));
}

}  // namespace

SampleResult sample(const SampleRequest& rq, const Control& control) {
  ControlScope scope(&control);
  check_request(rq);
  SamplerOptions s = rq.sampler;
  SampleResult result;
  if (rq.out.empty()) {
    for (int k = 0; k < rq.count; ++k) {
      checkpoint();
      s.seed = rq.sampler.seed + static_cast<std::uint64_t>(k);
      result.prompts.push_back(sample_prompt(s));
    }
    return result;
  }
  Outputs outputs;
  outputs.declare("--out", rq.out);
  std::ostream& stream = outputs.stream(rq.out);
  if (rq.count == 1) {
    stream << prompt_to_json(sample_prompt(s)).dump(1) << "\n";
  } else {
    // Prompt k of a batch uses seed + k, so any one prompt can be redrawn alone.
    // Written prompt by prompt: the batch is never held whole in memory.
    stream << "{\n \"format\": 1,\n \"prompts\": [\n";
    for (int k = 0; k < rq.count; ++k) {
      checkpoint();
      s.seed = rq.sampler.seed + static_cast<std::uint64_t>(k);
      stream << (k ? ",\n" : "") << batch_element_text(sample_prompt(s));
    }
    stream << "\n ]\n}\n";
  }
  outputs.commit();
  return result;
}

}  // namespace iclcert::api
