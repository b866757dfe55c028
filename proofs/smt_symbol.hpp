// Names of the symbols that go into an exported SMT-LIB2 file.
//
// Z3's printer does not quote every name that SMT-LIB2 forbids as a simple
// symbol (it wrote `n'` and `1x` unquoted, and z3 itself then rejected the file),
// so every symbol of a query is created here, under a name that is legal as
// printed: a simple symbol, or the name between bars. to_smtlib (query.cpp)
// refuses to export a formula with any other name (check_exported_symbols).
#pragma once

#include <z3++.h>

#include <string>

namespace iclcert::proofs {

// `name` itself when it is an SMT-LIB2 simple symbol (letters, digits and
// ~!@$%^&*_-+=<>.?/, not starting with a digit, not a reserved word), otherwise
// `|name|`. The map is injective on what the names denote (|x| denotes x, and x is
// quoted only when it is not simple). Throws std::invalid_argument for an empty
// name or one containing `|` or `\`, which no SMT-LIB2 symbol may contain.
std::string smt_symbol(const std::string& name);

// A real constant, or a real function of `arity` real arguments, named by smt_symbol.
z3::expr real_symbol(z3::context& ctx, const std::string& name);
z3::func_decl real_function(z3::context& ctx, const std::string& name, unsigned arity);

// Throws std::logic_error naming the first uninterpreted symbol of `e` whose
// name is not as smt_symbol makes it (a symbol created around real_symbol).
// Returns whether `e` applies an uninterpreted function (its logic needs UF).
bool check_exported_symbols(const z3::expr& e);

}  // namespace iclcert::proofs
