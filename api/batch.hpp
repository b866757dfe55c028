// `batch` as a call: the batched float path (gpu/) over a list of prompts or a
// prompt source, with per-layer statistics, validation against certified
// enclosures (claim G1, `validate`) or the certification of every prompt's final
// prediction (`certify`). The command `iclcert batch` and the Python package are
// front ends over it.
#pragma once

#include "api/control.hpp"
#include "gpu/batch_certify.hpp"
#include "gpu/batch_run.hpp"
#include "io/json_reader.hpp"
#include "numerics/model.hpp"
#include "numerics/prompt.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace iclcert::api {

// The prompts of a batch-path call: a source (not owned; sampled prompts, arrays)
// or, when it is null, the list.
struct BatchPrompts {
  const gpu::PromptSource* source = nullptr;
  std::vector<Prompt> list;
  // The source the call runs on: `source`, or one over `list` kept in `holder`.
  const gpu::PromptSource& resolve(std::unique_ptr<gpu::PromptSource>& holder) const;
};

// --validate all: every prompt.
constexpr long kValidateAll = -1;

struct BatchRequest {
  BatchPrompts prompts;
  Model model;
  Json source = nullptr;  // the JSON's "source": where the prompts came from
  std::string model_name = "the given model";  // the JSON's "model"
  gpu::BatchArith arith = gpu::BatchArith::float32;
  gpu::DeviceChoice device = gpu::DeviceChoice::automatic;
  int threads = 0;  // 0: every core (under mpiexec, those of this machine's ranks)
  int chunk = 4096;
  bool chunk_given = false;  // else `chunk` is a ceiling, lowered to fit the memory limit
  long validate = 0;         // prompts re-run in Arb balls (kValidateAll: all); not with certify
  bool final_only = false;   // no per-layer statistics
  bool certify = false, escalate = true;
  long max_prec = 1024;  // certify: Arb's precision stops rising here
  std::string json_out, csv_out;  // files to write (empty: none), together at the end or not at all
  gpu::ProgressMode progress_line = gpu::ProgressMode::never;  // the stderr line (the command line's)
};

struct BatchResult {
  std::optional<gpu::BatchResult> run;              // the float run (without certify)
  std::optional<gpu::CertifyReport> certification;  // with certify
  std::string json_text;  // what --json writes (docs/formats.md, "Batch results")
  std::string csv_text;   // what --csv writes: the printed tables as CSV
  std::string account;    // what `iclcert batch` prints
  std::string notice;     // the backend's choice and why ("no CUDA device ..."), which the command prints on stderr
  // 0 done; 1 a validated value beyond its stated bound, a float overflow, or
  // (certify) a float prediction that flips against a certified one.
  int exit_status = 0;
};

// Throws std::invalid_argument or InputError (bad options or input) and Cancelled.
BatchResult batch(const BatchRequest& request, const Control& control = {});

// The threads of a call that gives 0: every core, shared by this machine's MPI ranks.
int default_threads(int threads);

}  // namespace iclcert::api
