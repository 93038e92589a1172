# SPDX-License-Identifier: BSD-3-Clause
# Install rules for nvpoll: libraries, headers, pkg-config file, CMake
# package, tools, the example and man pages. Included from the top-level
# CMakeLists.txt after every target is defined, so it can install targets
# declared in other directories (CMake >= 3.13).
include(CMakePackageConfigHelpers)

set(NVP_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/nvpoll)

# --- Libraries and headers --------------------------------------------------
install(TARGETS nvpoll nvpoll_static EXPORT nvpollTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} NAMELINK_COMPONENT Development
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT Development
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/nvpoll
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT Development
  FILES_MATCHING PATTERN "*.h")

# --- CMake package: find_package(nvpoll) -> nvpoll::nvpoll, nvpoll::nvpoll_static
install(EXPORT nvpollTargets NAMESPACE nvpoll:: DESTINATION ${NVP_CMAKE_DIR}
  COMPONENT Development)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/nvpollConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/nvpollConfig.cmake INSTALL_DESTINATION ${NVP_CMAKE_DIR})
# The soname is libnvpoll.so.0: every 0.x release keeps the ABI, so a
# request for 0.1 is met by any later 0.x.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/nvpollConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cmake/nvpollConfig.cmake
              ${PROJECT_BINARY_DIR}/cmake/nvpollConfigVersion.cmake
  DESTINATION ${NVP_CMAKE_DIR} COMPONENT Development)

# --- pkg-config --------------------------------------------------------------
# Written at install time, not configure time, so that the prefix inside is
# the one actually installed to (cmake --install --prefix DIR), while
# DESTDIR staging still leaves it pointing at the final location.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(NVP_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  set(NVP_PC_LIBDIR "\${exec_prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(NVP_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(NVP_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
install(CODE "
  set(NVP_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  set(NVP_PC_LIBDIR [[${NVP_PC_LIBDIR}]])
  set(NVP_PC_INCLUDEDIR [[${NVP_PC_INCLUDEDIR}]])
  set(PROJECT_VERSION ${PROJECT_VERSION})
  configure_file([[${PROJECT_SOURCE_DIR}/cmake/nvpoll.pc.in]]
                 [[${PROJECT_BINARY_DIR}/cmake/nvpoll.pc]] @ONLY)
" COMPONENT Development)
install(FILES ${PROJECT_BINARY_DIR}/cmake/nvpoll.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT Development)

# --- Tools and the example ---------------------------------------------------
# Tools live in folders owned by their authors; whichever exist are
# installed here so the list of installed programs is in one place.
set(NVP_TOOLS nvpoll-perf nvpoll-identify nvpoll-setup)
set(NVP_TOOL_SUMMARY_nvpoll-perf "measure NVMe IOPS, bandwidth and latency through nvpoll")
set(NVP_TOOL_SUMMARY_nvpoll-identify "print NVMe Identify and SMART data of a controller")
set(NVP_TOOL_SUMMARY_nvpoll-setup "prepare a machine for nvpoll: bind controllers, reserve hugepages")
set(NVP_INSTALLED_TOOLS "")
foreach(tool ${NVP_TOOLS})
  if(TARGET ${tool})
    install(TARGETS ${tool} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT Runtime)
    list(APPEND NVP_INSTALLED_TOOLS ${tool})
  endif()
endforeach()
# hello_world is a sample, not a command: keep it out of PATH, and ship its
# source next to it so users can read what it does.
if(TARGET hello_world)
  # It links libnvpoll.so: find it from any prefix, not only from the
  # loader's default paths.
  file(RELATIVE_PATH NVP_EXAMPLE_TO_LIB
       ${CMAKE_INSTALL_FULL_LIBEXECDIR}/nvpoll/examples ${CMAKE_INSTALL_FULL_LIBDIR})
  set_target_properties(hello_world PROPERTIES INSTALL_RPATH "$ORIGIN/${NVP_EXAMPLE_TO_LIB}")
  install(TARGETS hello_world
    RUNTIME DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/nvpoll/examples COMPONENT Runtime)
endif()
install(FILES ${PROJECT_SOURCE_DIR}/examples/hello_world.c
  DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples COMPONENT Development)
# The guides and the generated API reference, as Markdown.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}
  COMPONENT Development FILES_MATCHING PATTERN "*.md")

# --- Man pages ---------------------------------------------------------------
# Generated from each tool's --help at build time: help2man when it is
# installed (apt install help2man), else a plain page wrapping the --help
# text, so `man nvpoll-perf` always works and never drifts from the tool.
find_program(HELP2MAN_EXECUTABLE help2man)
set(NVP_MAN_PAGES "")
foreach(tool ${NVP_INSTALLED_TOOLS})
  set(page ${PROJECT_BINARY_DIR}/man/${tool}.1)
  add_custom_command(OUTPUT ${page}
    COMMAND ${CMAKE_COMMAND} -DTOOL=$<TARGET_FILE:${tool}> -DNAME=${tool}
            "-DSUMMARY=${NVP_TOOL_SUMMARY_${tool}}" -DVERSION=${PROJECT_VERSION}
            -DHELP2MAN=${HELP2MAN_EXECUTABLE}
            -DSEE_ALSO=${PROJECT_SOURCE_DIR}/cmake/man-see-also.h2m -DOUTPUT=${page}
            -P ${PROJECT_SOURCE_DIR}/cmake/gen-man.cmake
    DEPENDS ${tool} ${PROJECT_SOURCE_DIR}/cmake/gen-man.cmake
            ${PROJECT_SOURCE_DIR}/cmake/man-see-also.h2m
    COMMENT "Generating man page ${tool}.1" VERBATIM)
  list(APPEND NVP_MAN_PAGES ${page})
endforeach()
add_custom_target(nvpoll-man ALL DEPENDS ${NVP_MAN_PAGES})
install(FILES ${NVP_MAN_PAGES} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT Runtime)
# The library overview page (man 7 nvpoll) is written by hand.
install(FILES ${PROJECT_SOURCE_DIR}/docs/man/nvpoll.7
  DESTINATION ${CMAKE_INSTALL_MANDIR}/man7 COMPONENT Development)
