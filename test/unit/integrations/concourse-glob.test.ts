import { globToRegExp } from '../../../integrations/concourse/src/glob';

describe('the artifacts globs of the Concourse out step', () => {
  it.each([
    ['output/*.qcow2', 'output/base.qcow2', true],
    ['output/*.qcow2', 'output/nested/base.qcow2', false],
    ['./output/*.qcow2', 'output/base.qcow2', true],
    ['output/**/*.json', 'output/manifest.json', true],
    ['output/**/*.json', 'output/a/b/manifest.json', true],
    ['**', 'any/depth/file', true],
    ['image-?.raw', 'image-1.raw', true],
    ['image-?.raw', 'image-10.raw', false],
    ['a+b (1).txt', 'a+b (1).txt', true],
    ['*.txt', 'atxt', false],
  ])('%s against %s: %s', (pattern, path, matches) => {
    expect(globToRegExp(pattern).test(path)).toBe(matches);
  });
});
