// `fuzz` as a call: property-based fuzzing of the recursion (properties/catalog.hpp)
// and of a user's weights (property "equivariance"), and the replay of a saved
// counterexample. Built into iclcert_api_fuzz, apart from iclcert_api: RapidCheck's
// static library is not position-independent, and the Python module links
// iclcert_api.
#pragma once

#include "api/account.hpp"
#include "api/control.hpp"
#include "numerics/model.hpp"
#include "numerics/prompt.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace iclcert::api {

struct FuzzRequest {
  std::string property;  // a catalogue id (fuzz_property_list), "all", or "equivariance"
  std::string arith;     // empty: each property's own
  int cases = 200;
  std::uint64_t seed = 1;  // printed; the command line draws one from the clock
  bool shrink = true;      // shrink a counterexample before reporting it
  // equivariance: the user's model (in memory, else read from model_file) and its
  // prompt (in memory, else prompt_file), or the sizes of drawn prompts ("d,C,N").
  std::optional<Model> model;
  std::string model_file;
  std::optional<Prompt> prompt;
  std::string prompt_file;
  std::string sample;
  std::string weights = "float64";  // float32 | float64: the tolerance the weights warrant
  double tolerance = 0;             // > 0: this relative tolerance instead
  // Files to write (empty: none; no counterexample file: it goes into the account):
  // the counterexample (for fuzz_replay), and equivariance's E1 and E3 tables as CSV.
  std::string counterexample_out, csv_out, e3_csv_out;
  AccountReceiver on_account;  // gets the account as it is written (a long run's header first)
};

struct FuzzResult {
  std::string account;  // what `iclcert fuzz` prints
  // 0 every case held, 1 a counterexample (still failing, for a replay), 3 gave up
  // (too many discarded cases).
  int exit_status = 0;
};

// Throws std::invalid_argument or InputError (bad options or input) and Cancelled
// (checked between cases; a cancelled run writes no file).
FuzzResult fuzz(const FuzzRequest& request, const Control& control = {});

struct FuzzReplayRequest {
  std::string file;      // a counterexample file that fuzz wrote
  double tolerance = 0;  // equivariance: > 0 overrides the file's
};
FuzzResult fuzz_replay(const FuzzReplayRequest& request, const Control& control = {});

// The properties, one a line: id and sentence (`iclcert fuzz --list`).
std::string fuzz_property_list();

}  // namespace iclcert::api
