# SPDX-License-Identifier: BSD-3-Clause
# Write the man page of one tool from its --help output.
#   cmake -DTOOL=path -DNAME=nvpoll-perf -DSUMMARY=... -DVERSION=0.1.0
#         -DHELP2MAN=path-or-NOTFOUND -DSEE_ALSO=file.h2m -DOUTPUT=x.1 -P gen-man.cmake
# help2man gives the nicer page; when it is missing, or fails because a tool
# does not follow GNU --help conventions yet, a plain page that wraps the
# --help text verbatim is written instead, so the build never breaks on it.
cmake_minimum_required(VERSION 3.18)

# help2man dates the page from SOURCE_DATE_EPOCH when it is set
# (reproducible builds); the plain page carries no date at all.
# Run the tool by its bare name, found first in PATH, so that the usage
# lines and examples it prints from argv[0] say "nvpoll-perf", not the
# build directory's path.
get_filename_component(tool_dir ${TOOL} DIRECTORY)
set(ENV{PATH} "${tool_dir}:$ENV{PATH}")
# help2man writes the page itself and cannot create its directory: in a
# fresh build tree nothing has made it yet.
get_filename_component(out_dir ${OUTPUT} DIRECTORY)
file(MAKE_DIRECTORY ${out_dir})

if(HELP2MAN AND EXISTS "${HELP2MAN}")
  execute_process(
    COMMAND ${HELP2MAN} --no-info --no-discard-stderr
            --version-string=${VERSION} --name=${SUMMARY}
            --section=1 --source=nvpoll --manual=nvpoll
            --include=${SEE_ALSO} --output=${OUTPUT}.tmp ${NAME}
    RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
  if(rc EQUAL 0)
    file(RENAME ${OUTPUT}.tmp ${OUTPUT})
    return()
  endif()
  message(WARNING "help2man failed for ${NAME} (${err}); writing a plain page")
  file(REMOVE ${OUTPUT}.tmp)
endif()

execute_process(COMMAND ${NAME} --help OUTPUT_VARIABLE help ERROR_VARIABLE help_err
                RESULT_VARIABLE rc)
if(NOT help)
  set(help "${help_err}")
endif()
if(NOT help)
  set(help "${NAME} printed no --help text.")
endif()
# Roff: escape backslashes, and lines starting with . or ' would be requests.
string(REPLACE "\\" "\\e" help "${help}")
string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" help "${help}")
string(TOUPPER ${NAME} upper)
file(READ ${SEE_ALSO} see_also)
string(REGEX REPLACE "\\[SEE ALSO\\]\n" "" see_also "${see_also}")
file(WRITE ${OUTPUT}
".TH ${upper} 1 \"\" \"${NAME} ${VERSION}\" \"nvpoll\"
.SH NAME
${NAME} \\- ${SUMMARY}
.SH DESCRIPTION
.nf
${help}
.fi
.SH \"SEE ALSO\"
${see_also}")
