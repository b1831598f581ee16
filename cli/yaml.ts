/** YAML (a superset of JSON) for the commands that read files; imported only by them: yaml is large. */
export { parse as parseYaml } from 'yaml';
