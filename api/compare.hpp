// `compare` as a call: a trained model A against the recursion extracted from it
// (or any two models of the same depth) on a batch of prompts, on the batch path:
// per-depth deviation, prediction agreement and accuracy, the classical baselines
// (numerics/baselines.hpp), agreement with the trainer's exported predictions, and
// certified enclosures (`validate`: the first K prompts in Arb; `certify`: every
// prompt's final prediction of both models, gpu/batch_certify.hpp).
#pragma once

#include "api/batch.hpp"
#include "api/control.hpp"
#include "api/predictions_file.hpp"
#include "gpu/batch_certify.hpp"
#include "gpu/batch_compare.hpp"

#include <optional>
#include <string>

namespace iclcert::api {

struct CompareRequest {
  BatchPrompts prompts;
  Model a, b;
  std::string a_name = "model A", b_name = "model B";  // the JSON's model and against
  std::string prompts_name = "the given prompts";     // the JSON's prompt_file
  // The trainer's predictions, checked against A: from `predictions_file` (read
  // once the prompts' count is known; it names them), or `exported`.
  std::string predictions_file;
  std::optional<ExportedPredictions> exported;
  std::string exported_name = "the given predictions";
  double min_prediction_agreement = 0.99;  // with `exported`: A's agreement below it is a failed check
  std::optional<double> min_agreement;     // A's and B's final agreement below it is a failed check
  gpu::BatchArith arith = gpu::BatchArith::float32;
  gpu::DeviceChoice device = gpu::DeviceChoice::automatic;
  int threads = 0;  // 0: every core (under mpiexec, those of this machine's ranks)
  int chunk = 4096;
  long validate = 0;  // the first prompts certified in Arb balls at 256 bits (kValidateAll: all)
  bool baselines = true;
  bool certify = false, escalate = true;
  long max_prec = 1024;
  std::string json_out, csv_out;  // files to write (empty: none), together at the end or not at all
  gpu::ProgressMode progress_line = gpu::ProgressMode::never;
};

struct CompareResult {
  gpu::CompareResult run;
  std::optional<gpu::CertifyReport> certify_a, certify_b;  // with certify
  std::string json_text;  // what --json writes
  std::string csv_text;   // what --csv writes: the per-depth tables as one
  std::string account;    // what `iclcert compare` prints
  std::string notice;     // the backend's choice and why, which the command prints on stderr
  // 0 done; 1 the final agreement is below min_agreement, A disagrees with the
  // exported predictions, or a float state overflowed.
  int exit_status = 0;
  bool root = true;  // false on an MPI rank other than 0: it has no results
};

// Throws std::invalid_argument or InputError (bad options or input) and Cancelled.
CompareResult compare(const CompareRequest& request, const Control& control = {});

}  // namespace iclcert::api
