// `validate` as a call: a user's own float run (PyTorch, NumPy) checked against
// certified predictions. Every prompt's final prediction is certified as
// `batch --certify` and `compare --certify` certify it (gpu/batch_certify.hpp:
// float64 intervals, then Arb for the undecided), and the user's class is a flip
// where it differs from a certified one: the flips `compare --certify` counts for
// a model whose float predictions are the user's.
#pragma once

#include "api/batch.hpp"
#include "api/control.hpp"
#include "gpu/batch_certify.hpp"

#include <optional>
#include <string>
#include <vector>

namespace iclcert::api {

struct ValidateRequest {
  BatchPrompts prompts;
  Model model;
  std::vector<int> predictions;  // the user's class per prompt, each in [0, C)
  std::vector<double> logits;    // optional: the user's final probe logits, B x C row by row
  int threads = 0;               // 0: every core
  int chunk = 4096;
  bool escalate = true;
  long max_prec = 1024;  // Arb's precision stops rising here
  gpu::ProgressMode progress_line = gpu::ProgressMode::never;
};

struct ValidateRow {
  long prompt = 0;
  std::optional<int> certified;  // the exact recursion's class; none when undecided at max_prec
  int float_class = 0;           // the user's
  bool flip = false;             // certified and != float_class
  double margin_lo = 0, margin_hi = 0;  // encloses the final margin of the certified (or leading) class
  std::optional<double> float_margin;   // with logits: the user's margin of that class
  std::optional<int> label;             // the probe's label, if the prompt has one
};

struct ValidateSummary {
  long prompts = 0, certified = 0, flips = 0;
  long labelled = 0, correct = 0;  // over prompts with a label and a certified class
  std::optional<double> certified_accuracy;  // correct / labelled; none when labelled = 0
};

struct ValidateResult {
  std::vector<ValidateRow> rows;
  ValidateSummary summary;
  gpu::CertifyReport certification;
  std::string account;
  int exit_status = 0;  // 1 when a float class flips against a certified one
};

// Throws std::invalid_argument (predictions or logits not one per prompt, a class
// outside [0, C), a logit not finite) or InputError, and Cancelled.
ValidateResult validate(const ValidateRequest& request, const Control& control = {});

}  // namespace iclcert::api
