# One CMake target per module, with the walls between modules built in.
#
# The modules and what each may use are written once, in the `zcopy-modules` block of
# docs/ARCHITECTURE.md; zcopy_read_module_graph() reads them from there. Each module
# `zcopy::<name>` compiles src/<name>/**/*.cpp (subfolders too) and sees exactly:
#   - its own private headers (src/<name>/, as "<name>/x.hpp" or "x.hpp"),
#   - its own public headers (include/zcopy/<name>/) and those of the modules it may use,
# through per-module include views: directories in the build tree that hold symlinks to just
# those folders. Including another module's private header, or a public header of a module the
# graph does not allow, is "No such file or directory" at compile time.

# Sets ZCOPY_MODULES (in dependency order, as written) and ZCOPY_MODULE_USES_<name>.
function(zcopy_read_module_graph document)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${document})
  file(STRINGS ${document} lines)
  set(inside FALSE)
  set(modules "")
  foreach(line IN LISTS lines)
    if(line MATCHES "^```zcopy-modules")
      set(inside TRUE)
      continue()
    endif()
    if(NOT inside)
      continue()
    endif()
    if(line MATCHES "^```")
      break()
    endif()
    if(line MATCHES "^#" OR line MATCHES "^[ \t]*$")
      continue()
    endif()
    string(REGEX REPLACE "[ \t]+" ";" words "${line}")
    list(POP_FRONT words module)
    foreach(used IN LISTS words)
      if(NOT used IN_LIST modules)
        message(FATAL_ERROR "${document}: module ${module} uses ${used}, which is not listed "
                            "above it (a module may use only modules listed before it)")
      endif()
    endforeach()
    list(APPEND modules ${module})
    set(ZCOPY_MODULE_USES_${module} ${words} PARENT_SCOPE)
  endforeach()
  if(NOT modules)
    message(FATAL_ERROR "${document} has no zcopy-modules block")
  endif()
  set(ZCOPY_MODULES ${modules} PARENT_SCOPE)
endfunction()

set(ZCOPY_VIEWS_DIR ${PROJECT_BINARY_DIR}/module-views)

# zcopy_add_module(NAME) after zcopy_read_module_graph(); system libraries are linked by the
# caller, to the one module that needs them.
function(zcopy_add_module name)
  set(target zcopy_${name})
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${name}/*.cpp)
  add_library(${target} STATIC ${sources})
  add_library(zcopy::${name} ALIAS ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${name} POSITION_INDEPENDENT_CODE ON)

  set(public_view ${ZCOPY_VIEWS_DIR}/public/${name})
  set(private_view ${ZCOPY_VIEWS_DIR}/private/${name})
  file(MAKE_DIRECTORY ${public_view}/zcopy ${private_view})
  file(CREATE_LINK ${PROJECT_SOURCE_DIR}/include/zcopy/${name} ${public_view}/zcopy/${name} SYMBOLIC)
  file(CREATE_LINK ${PROJECT_SOURCE_DIR}/src/${name} ${private_view}/${name} SYMBOLIC)

  target_include_directories(${target}
    PUBLIC $<BUILD_INTERFACE:${public_view}> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    PRIVATE ${private_view})
  target_compile_features(${target} PUBLIC cxx_std_23)
  set(uses "")
  foreach(used IN LISTS ZCOPY_MODULE_USES_${name})
    list(APPEND uses zcopy_${used})
  endforeach()
  target_link_libraries(${target} PUBLIC ${uses} Threads::Threads)
  zcopy_target_warnings(${target})
endfunction()

# An object library that compiles every public header of module NAME on its own, with only what
# the module may see: a header that is not self-contained, or that reaches past the module's
# walls, fails the build.
function(zcopy_check_public_headers name)
  set(include_dir ${PROJECT_SOURCE_DIR}/include/zcopy/${name})
  file(GLOB_RECURSE headers CONFIGURE_DEPENDS ${include_dir}/*.hpp)
  set(dir ${PROJECT_BINARY_DIR}/header-checks/${name})
  set(sources "")
  foreach(header IN LISTS headers)
    # server/server.hpp -> zcopy/<name>/server/server.hpp, checked by server_server.cpp
    file(RELATIVE_PATH relative ${include_dir} ${header})
    string(REGEX REPLACE "\\.hpp$" "" stem ${relative})
    string(REPLACE "/" "_" flat ${stem})
    set(source ${dir}/${flat}.cpp)
    set(text "#include \"zcopy/${name}/${relative}\"  // must compile on its own\n")
    if(EXISTS ${source})
      file(READ ${source} old)
    endif()
    if(NOT EXISTS ${source} OR NOT old STREQUAL text)
      file(WRITE ${source} "${text}")
    endif()
    list(APPEND sources ${source})
  endforeach()
  if(sources)
    add_library(zcopy_${name}_headers OBJECT ${sources})
    target_link_libraries(zcopy_${name}_headers PRIVATE zcopy_${name})
    zcopy_target_warnings(zcopy_${name}_headers)
  endif()
endfunction()

# zcopy_module_links_system(MODULE PACKAGE PkgConfig::PREFIX): MODULE links the system library
# found by pkg_check_modules(PREFIX IMPORTED_TARGET PACKAGE) privately; recorded so that the
# installed package looks for PACKAGE, under the same PREFIX, only when a module that needs it,
# or one that uses such a module, is wanted.
function(zcopy_module_links_system module package imported_target)
  if(NOT imported_target MATCHES "^PkgConfig::([A-Za-z0-9_]+)$")
    message(FATAL_ERROR "zcopy_module_links_system(${module} ${package} ${imported_target}): "
                        "the target must be pkg_check_modules' PkgConfig::<PREFIX>")
  endif()
  target_link_libraries(zcopy_${module} PRIVATE ${imported_target})
  set_property(GLOBAL APPEND PROPERTY ZCOPY_SYSTEM_LIBS_${module} ${package})
  set_property(GLOBAL PROPERTY ZCOPY_SYSTEM_PREFIX_${package} ${CMAKE_MATCH_1})
endfunction()

# Sets OUT to every system package some module links, each once, in module order.
function(zcopy_all_system_packages out)
  set(all "")
  foreach(module IN LISTS ZCOPY_MODULES)
    get_property(own GLOBAL PROPERTY ZCOPY_SYSTEM_LIBS_${module})
    list(APPEND all ${own})
  endforeach()
  list(REMOVE_DUPLICATES all)
  set(${out} ${all} PARENT_SCOPE)
endfunction()

# Sets OUT to CMake lines `set(_zcopy_system_<module> <packages>)`, each module's system libraries
# with those of every module it uses, and `set(_zcopy_prefix_<package> <PREFIX>)`, the prefix of
# each package's PkgConfig:: target, for zcopyConfig.cmake.
function(zcopy_config_system_libs out)
  set(lines "")
  zcopy_all_system_packages(packages)
  foreach(package IN LISTS packages)
    get_property(prefix GLOBAL PROPERTY ZCOPY_SYSTEM_PREFIX_${package})
    string(APPEND lines "set(_zcopy_prefix_${package} ${prefix})\n")
  endforeach()
  foreach(module IN LISTS ZCOPY_MODULES)
    get_property(own GLOBAL PROPERTY ZCOPY_SYSTEM_LIBS_${module})
    set(all ${own})
    foreach(used IN LISTS ZCOPY_MODULE_USES_${module})
      list(APPEND all ${system_of_${used}})
    endforeach()
    list(REMOVE_DUPLICATES all)
    set(system_of_${module} ${all})
    string(APPEND lines "set(_zcopy_system_${module} \"${all}\")\n")
  endforeach()
  set(${out} "${lines}" PARENT_SCOPE)
endfunction()
