// `sweep` as a call: a map of certified verdicts of a claim (A2, A1, E1, or
// "margin", the sign of the final probe margin) over a grid of reduced-model
// coefficients. Every cell's model is the model with the gridded training
// coefficients set at every layer; every (cell, prompt) is checked by the very code
// of `check` (api::check_point, with its precision escalation).
#pragma once

#include "api/account.hpp"
#include "api/control.hpp"
#include "gpu/progress.hpp"
#include "io/json_reader.hpp"
#include "numerics/model.hpp"
#include "numerics/prompt.hpp"
#include "numerics/rational.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace iclcert::api {

inline constexpr long kMaxSweepChecks = 100000000;  // cells x prompts: a typo must not start a run of years

// One axis of the grid: the training coefficient `name` (beta | gamma | alpha |
// alpha_label) at every layer takes LO + (HI - LO) i / (COUNT - 1).
struct SweepAxis {
  std::string name;
  Rational lo, hi;
  long count = 1;
  Rational value(long i) const { return count == 1 ? lo : lo + (hi - lo) * Rational(i) / Rational(count - 1); }
};

// "NAME=LO:HI:COUNT"; throws std::invalid_argument naming --grid.
SweepAxis parse_sweep_axis(const std::string& text);

struct SweepRequest {
  std::string claim;  // A2 | A1 | E1 | margin
  std::string metric = "fisher";
  std::vector<SweepAxis> grid;  // 1 to 4 distinct axes
  // The model: given, else model_file, else the embedded default (reduced layers only).
  std::optional<Model> model;
  std::string model_file;
  // The prompts: exactly one of a list given in memory (`prompt_list`, named
  // `prompt_list_name` in messages and in the JSON's source.prompt_file), a prompt
  // or batch file, or `prompts` drawn with --sample d,C,N (prompt k with seed + k).
  std::optional<std::vector<Prompt>> prompt_list;
  std::string prompt_list_name = "the given prompts";
  std::string prompt_file, sample;
  long prompts = 1;
  std::uint64_t seed = 1;
  long threads = 0;  // per process; 0: every core (shared among a machine's MPI ranks)
  long prec = 128, max_prec = 1024;
  // Files to write (empty: none), together at the end or not at all: one row per
  // cell as CSV, the sweep as JSON, each refuted cell's first counterexample as
  // DIR/cell_K.json (a verdict file for check --replay).
  std::string csv, json, counterexamples;
  gpu::ProgressMode progress_line = gpu::ProgressMode::never;
  std::string prompt_flag = "--prompt", count_flag = "--count";  // how messages name them
  AccountReceiver on_account;
};

struct SweepCell {
  std::vector<Rational> values;  // the coordinates, in grid order
  long proved = 0, refuted = 0, undecided = 0;
  // Why prompts were undecided: counts under short identifiers (docs/formats.md
  // explains each), and the first message of each.
  std::map<std::string, long> undecided_reasons;
  std::map<std::string, std::string> undecided_details;
  long refuting_prompt = -1;
  Json counterexample = nullptr;  // the verdict file of the first refuting prompt
  double seconds = 0;
};

struct SweepResult {
  std::vector<SweepCell> cells;  // in cell order (the last axis fastest); empty on MPI ranks but 0
  Json json;                     // the --json document
  std::string csv;               // the --csv table
  std::string account;           // what `iclcert sweep` prints
  int exit_status = 0;
};

// Throws std::invalid_argument or InputError (bad options or input) and Cancelled.
SweepResult sweep(const SweepRequest& request, const Control& control = {});

}  // namespace iclcert::api
