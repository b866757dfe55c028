// prompt.json (docs/formats.md): one prompt, or {"format": 1, "prompts": [...]}.
#pragma once

#include "io/json_reader.hpp"
#include "numerics/prompt.hpp"

#include <string>
#include <vector>

namespace iclcert {

// Reads a prompt file: a single prompt or a batch. Validates sizes, row lengths,
// labels and limits; throws InputError naming the file and field.
std::vector<Prompt> read_prompt_file(const std::string& path);
std::vector<Prompt> parse_prompts(const Json& json, const std::string& file);

// Exact text form (numbers as "p/q" strings).
Json prompt_to_json(const Prompt& p, bool with_format = true);

}  // namespace iclcert
