// A trainer's exported predictions (docs/formats.md, "Exported predictions"), read
// for `iclcert compare --predictions`: one class per prompt, optionally the final
// probe logits. Kept apart from the command so that the readers' fuzz target can
// call it on bytes alone.
#pragma once

#include "io/json_reader.hpp"

#include <string>
#include <vector>

namespace iclcert::api {

struct ExportedPredictions {
  std::vector<int> classes;    // B, each in [0, C)
  std::vector<double> logits;  // B x C, or empty
  std::string arithmetic;      // the trainer's note, or empty
};

// For B prompts of C classes; `file` names the input in errors. Throws InputError
// naming the file and the field on anything else (unknown fields, a count other
// than B, a class outside [0, C), a row of probe_logits not of C numbers).
ExportedPredictions read_predictions(const Json& json, const std::string& file, long B, int C);
// The same, from a file (load_json_file's limits and errors).
ExportedPredictions read_predictions(const std::string& path, long B, int C);

}  // namespace iclcert::api

// Transitional (issue 24): the commands of cli/ still name these unqualified.
namespace iclcert::cli {
using namespace iclcert::api;
}
