// Package config reads the YAML files of the coordinator and the site agent.
//
// It owns the file format: strict decoding (unknown keys are errors),
// defaults, and validation that reports every problem at once, each with its
// dotted path (sites[1].address: must be set). It does not build runtime
// components; the daemons' packages turn a validated file into their typed
// runtime Config.
package config
