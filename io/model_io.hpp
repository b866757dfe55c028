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

// Writes `d` and `C` when the model has them (Model::d > 0). Every command that
// runs a dense model on a prompt sets them from the prompt first (fill_split), so
// the dense models iclcert writes record their split.
Json model_to_json(const Model& m);

// Sets the model's d and C to those of the prompt it runs on when it has dense
// layers and does not record them; call after require_model_fits.
void fill_split(Model& m, int d, int C);

// The size d + C of the model's dense matrices, or 0 without a dense layer.
std::size_t dense_size(const Model& m);

// Checks a model against the d and C it is to run on (those of `what`, e.g.
// "the prompt file p.json" or "--sample 4,4,16"): the d and C the model file
// records, and the size of every dense matrix. Throws InputError naming
// `model_file` and the field.
void require_model_fits(const Model& m, int d, int C, const std::string& model_file, const std::string& what);

}  // namespace iclcert
