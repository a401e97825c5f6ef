/** The product's version: package.json's, beside the layers in a checkout and in the package alike. */
import { readFileSync } from 'node:fs';

export function productVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}
