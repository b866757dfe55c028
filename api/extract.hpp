// `extract` as a call: claim E3 on a (trained) model, each matrix projected onto
// span{M(theta)}, and the reduced recursion extracted from it
// (numerics/extraction.hpp, theory/extraction.md).
#pragma once

#include "api/control.hpp"
#include "io/json_reader.hpp"
#include "numerics/extraction.hpp"
#include "numerics/model.hpp"
#include "numerics/scalar_rational.hpp"

#include <optional>
#include <string>

namespace iclcert::api {

struct ExtractRequest {
  Model model;
  std::string model_name = "the given model";  // the JSON's model, and messages
  // The split of the dense matrices into d features and C classes: both given, one
  // given (the other from the matrices' size), or neither (the model's recorded split).
  int d = 0, C = 0;
  std::optional<double> max_residual;  // a residual not below it is a failed check
  // Files to write (empty: none), together at the end or not at all: the reduced and
  // the projected full-form model (model.json format), --json and --csv.
  std::string out, full_out, json_out, csv_out;
  // The JSON's reduced_model and full_model when the caller writes those files itself.
  std::string out_name, full_out_name;
};

struct ExtractResult {
  ModelExtraction<Rational> extraction;
  int d = 0, C = 0;
  double max_residual = 0, max_fit_error = 0;  // the largest E3 residual, fit error of the reduced recursion
  std::string reduced_text, full_text;         // the two models as files
  std::string json_text, csv_text;
  std::string account;     // what `iclcert extract` prints (before its "written:" lines)
  bool residual_exceeded = false;  // max_residual given and not below it
  int exit_status = 0;             // 1 when residual_exceeded
};

// Throws std::invalid_argument or InputError (no layer, sizes that do not split the
// matrices) and Cancelled.
ExtractResult extract(const ExtractRequest& request, const Control& control = {});

// The size d + C of the last dense layer's matrices, or 0 without a dense layer: the
// split is taken from it, and extract_model then names a layer of another size.
int dense_matrix_size(const Model& model);

}  // namespace iclcert::api
