// model.json (docs/formats.md): reduced, full and dense layers.
#pragma once

#include "io/json_reader.hpp"
#include "numerics/model.hpp"

#include <string>

namespace iclcert {

// Reads and validates a model file; throws InputError naming the file and field.
// Dense matrix sizes are checked against the prompt later (require_runnable).
Model read_model_file(const std::string& path);
Model parse_model(const Json& json, const std::string& file);

Json model_to_json(const Model& m);

}  // namespace iclcert
