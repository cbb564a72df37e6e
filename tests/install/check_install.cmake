# Installs the build tree into a scratch prefix, then builds and runs separate consumer projects
# against it: the umbrella through find_package(zcopy) and through pkg-config, and zcopy::core
# alone with liburing, libfuse3, libxdp and libbpf hidden from pkg-config, as on a machine without
# their -dev packages.

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
endfunction()

set(prefix ${WORK_DIR}/prefix)
file(REMOVE_RECURSE ${WORK_DIR})
run(${CMAKE_COMMAND} --install ${ZCOPY_BINARY_DIR} --prefix ${prefix})

# find_package(zcopy) + zcopy::zcopy
run(${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR} -B ${WORK_DIR}/consumer -G ${CMAKE_GENERATOR}
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/consumer)
run(${WORK_DIR}/consumer/zcopy_consumer)

# pkg-config --cflags --libs zcopy
find_program(PKG_CONFIG pkg-config REQUIRED)
set(ENV{PKG_CONFIG_PATH} ${prefix}/${LIBDIR}/pkgconfig)
execute_process(COMMAND ${PKG_CONFIG} --cflags --libs zcopy
  OUTPUT_VARIABLE flags OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config does not know zcopy")
endif()
separate_arguments(flags UNIX_COMMAND "${flags}")
run(c++ ${CONSUMER_SOURCE_DIR}/main.cpp -o ${WORK_DIR}/pkgconfig_consumer ${flags})
run(${WORK_DIR}/pkgconfig_consumer)
# find_package(zcopy COMPONENTS core) + zcopy::core, with pkg-config finding nothing, and no
# trace of liburing, libfuse3, libxdp or libbpf on its compile and link lines.
file(MAKE_DIRECTORY ${WORK_DIR}/no-pkgconfig)
set(ENV{PKG_CONFIG_LIBDIR} ${WORK_DIR}/no-pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")
run(${CMAKE_COMMAND} -S ${CORE_CONSUMER_SOURCE_DIR} -B ${WORK_DIR}/core_consumer -G ${CMAKE_GENERATOR}
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/core_consumer --verbose)
run(${WORK_DIR}/core_consumer/zcopy_core_consumer)
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/core_consumer --verbose --clean-first
  OUTPUT_VARIABLE lines ERROR_VARIABLE lines)
# (The tree's own path may contain anything, so libxdp and libbpf are matched by library name.)
if(lines MATCHES "uring|fuse|libxdp|libbpf|-lxdp|-lbpf")
  message(FATAL_ERROR "zcopy::core brought a system library onto the build lines:\n${lines}")
endif()
# pkg-config --cflags --libs zcopy-core, with only zcopy's own .pc files to be found.
set(ENV{PKG_CONFIG_LIBDIR} ${prefix}/${LIBDIR}/pkgconfig)
execute_process(COMMAND ${PKG_CONFIG} --cflags --libs zcopy-core
  OUTPUT_VARIABLE flags OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR flags MATCHES "uring|fuse|-lxdp|-lbpf")
  message(FATAL_ERROR "pkg-config zcopy-core: '${flags}' (exit ${rc})")
endif()
separate_arguments(flags UNIX_COMMAND "${flags}")
run(c++ ${CORE_CONSUMER_SOURCE_DIR}/main.cpp -o ${WORK_DIR}/pkgconfig_core_consumer ${flags})
run(${WORK_DIR}/pkgconfig_core_consumer)
unset(ENV{PKG_CONFIG_LIBDIR})

message(STATUS "installed package works through find_package and pkg-config")
