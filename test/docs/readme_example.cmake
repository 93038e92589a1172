# SPDX-License-Identifier: BSD-3-Clause
# Extract the C example from README.md into @OUT@ with a main() that runs it
# against the emulated controller, so the README's code is compiled and run.
file(READ ${README} text)
string(FIND "${text}" "```c\n" start)
if(start EQUAL -1)
  message(FATAL_ERROR "README.md has no ```c example")
endif()
math(EXPR start "${start} + 5")
string(SUBSTRING "${text}" ${start} -1 rest)
string(FIND "${rest}" "```" end)
string(SUBSTRING "${rest}" 0 ${end} code)
file(WRITE ${OUT} "/* Generated from README.md: do not edit. */\n#include <stdio.h>\n${code}\n"
  "int main(void)\n{\n\treturn read_first_block(\"emu:\") ? 1 : 0;\n}\n")
