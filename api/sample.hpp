// `sample` as a call: prompts of the in-context task drawn by the sampler (spec
// section 1), returned or written exactly.
#pragma once

#include "api/control.hpp"
#include "numerics/prompt.hpp"
#include "numerics/sampler.hpp"

#include <string>
#include <vector>

namespace iclcert::api {

struct SampleRequest {
  SamplerOptions sampler;  // sizes, seed, balanced, margin; prompt k of a batch is drawn with seed + k
  int count = 1;
  // The file to write (a prompt file, or a batch file when count > 1; "-": standard
  // output). Empty: none, and the prompts come back in the result instead.
  std::string out;
  std::string sizes_option = "--sample";  // how messages name the sizes ("-d, -C, -N")
};

struct SampleResult {
  std::vector<Prompt> prompts;  // when no file was named
};

// Throws std::invalid_argument (sizes, margin or count out of range) and Cancelled.
SampleResult sample(const SampleRequest& request, const Control& control = {});

}  // namespace iclcert::api
