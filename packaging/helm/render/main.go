// Command render renders the harbor-keyless Helm chart without a helm binary, for tests.
//
//	render [-f VALUES.yaml]... [-namespace NS] [-release NAME] CHART_DIR
//
// It implements the part of Helm 3 the chart uses. values.yaml is merged with the -f files
// (later files win, maps merge key by key). Templates see the .Release, .Chart and .Values
// objects, every sprig function, and Helm's own include, tpl, required, toYaml, fromYaml
// and fromYamlArray.
// Templates render in file-name order, each as "---\n# Source: <path>" plus its text;
// templates whose name starts with "_" only define named templates. values.schema.json is
// not checked here: the test validates values against it separately.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"gopkg.in/yaml.v2"
)

type valueFiles []string

func (v *valueFiles) String() string     { return strings.Join(*v, ",") }
func (v *valueFiles) Set(s string) error { *v = append(*v, s); return nil }

func main() {
	var files valueFiles
	flag.Var(&files, "f", "values file; repeat for more, later files win")
	namespace := flag.String("namespace", "default", "release namespace")
	release := flag.String("release", "harbor-keyless", "release name")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: render [-f VALUES.yaml]... [-namespace NS] [-release NAME] CHART_DIR")
		os.Exit(64)
	}
	output, err := render(flag.Arg(0), files, *namespace, *release)
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
	os.Stdout.WriteString(output)
}

func render(chartDir string, files []string, namespace, release string) (string, error) {
	chart, err := readYAMLMap(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		return "", err
	}
	values, err := readYAMLMap(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		return "", err
	}
	for _, file := range files {
		override, err := readYAMLMap(file)
		if err != nil {
			return "", err
		}
		values = merge(values, override)
	}

	// Helm exposes Chart.yaml fields with capitalised names.
	chartObject := map[string]interface{}{}
	for key, value := range chart {
		chartObject[strings.ToUpper(key[:1])+key[1:]] = value
	}
	top := map[string]interface{}{
		"Values":  values,
		"Chart":   chartObject,
		"Release": map[string]interface{}{"Name": release, "Namespace": namespace, "Service": "Helm", "IsInstall": true},
	}

	chartName, _ := chart["name"].(string)
	paths, err := filepath.Glob(filepath.Join(chartDir, "templates", "*"))
	if err != nil {
		return "", err
	}
	sort.Strings(paths)

	root := template.New("chart")
	functions := functionMap(root)
	root.Funcs(functions).Option("missingkey=zero")
	for _, path := range paths {
		text, err := os.ReadFile(path)
		if err != nil {
			return "", err
		}
		name := chartName + "/templates/" + filepath.Base(path)
		if _, err := root.New(name).Parse(string(text)); err != nil {
			return "", err
		}
	}

	var out strings.Builder
	for _, path := range paths {
		base := filepath.Base(path)
		if strings.HasPrefix(base, "_") || !(strings.HasSuffix(base, ".yaml") || strings.HasSuffix(base, ".yml")) {
			continue
		}
		name := chartName + "/templates/" + base
		var buffer bytes.Buffer
		if err := root.ExecuteTemplate(&buffer, name, top); err != nil {
			return "", err
		}
		// Helm prints a missing value as empty, not "<no value>".
		text := strings.ReplaceAll(buffer.String(), "<no value>", "")
		if strings.TrimSpace(text) == "" {
			continue
		}
		out.WriteString("---\n# Source: " + name + "\n" + strings.TrimLeft(text, "\n") + "\n")
	}
	return out.String(), nil
}

// functionMap returns sprig's functions plus Helm's own, bound to the template set so that
// include can execute named templates.
func functionMap(root *template.Template) template.FuncMap {
	functions := sprig.TxtFuncMap()
	functions["include"] = func(name string, data interface{}) (string, error) {
		var buffer bytes.Buffer
		err := root.ExecuteTemplate(&buffer, name, data)
		return buffer.String(), err
	}
	functions["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buffer bytes.Buffer
		err = t.Execute(&buffer, data)
		return buffer.String(), err
	}
	functions["required"] = func(message string, value interface{}) (interface{}, error) {
		if value == nil {
			return nil, errors.New(message)
		}
		if text, ok := value.(string); ok && text == "" {
			return nil, errors.New(message)
		}
		return value, nil
	}
	// Helm's toYaml marshals through sigs.k8s.io/yaml (yaml.v2 underneath) and trims the
	// final newline.
	functions["toYaml"] = func(value interface{}) string {
		data, err := yaml.Marshal(value)
		if err != nil {
			return ""
		}
		return strings.TrimSuffix(string(data), "\n")
	}
	functions["fromYaml"] = func(text string) map[string]interface{} {
		result := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(text), &result); err != nil {
			result["Error"] = err.Error()
		}
		return normalize(result).(map[string]interface{})
	}
	functions["fromYamlArray"] = func(text string) []interface{} {
		var result []interface{}
		if err := yaml.Unmarshal([]byte(text), &result); err != nil {
			return []interface{}{err.Error()}
		}
		return normalize(result).([]interface{})
	}
	return functions
}

func readYAMLMap(path string) (map[string]interface{}, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	result := map[interface{}]interface{}{}
	if err := yaml.Unmarshal(data, &result); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return normalize(result).(map[string]interface{}), nil
}

// normalize turns yaml.v2's map[interface{}]interface{} into map[string]interface{}, as
// Helm's JSON-based decoding produces, so sprig's dict functions work on values.
func normalize(value interface{}) interface{} {
	switch typed := value.(type) {
	case map[interface{}]interface{}:
		result := map[string]interface{}{}
		for key, item := range typed {
			result[fmt.Sprint(key)] = normalize(item)
		}
		return result
	case map[string]interface{}:
		for key, item := range typed {
			typed[key] = normalize(item)
		}
		return typed
	case []interface{}:
		for index, item := range typed {
			typed[index] = normalize(item)
		}
		return typed
	default:
		return value
	}
}

// merge returns base with override applied: maps merge key by key, anything else in
// override replaces the value in base (Helm's coalescing of -f files).
func merge(base, override map[string]interface{}) map[string]interface{} {
	for key, value := range override {
		baseMap, baseIsMap := base[key].(map[string]interface{})
		overrideMap, overrideIsMap := value.(map[string]interface{})
		if baseIsMap && overrideIsMap {
			base[key] = merge(baseMap, overrideMap)
			continue
		}
		base[key] = value
	}
	return base
}
