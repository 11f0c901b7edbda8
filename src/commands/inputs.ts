/**
 * parseArgs' values and the command's Deps turned into the typed inputs the layers below take:
 * nothing below commands/ reads the bag. Shared by the commands (it is not one: no command imports another).
 */
import type { Deps, ParsedOptions } from '../command-types.js';
import type { ClusterFlags } from '../options.js';
import type { TargetFlags } from '../steps/target.js';
import type { UpDeps } from '../steps/up-steps.js';

export const text = (options: ParsedOptions, key: string): string | undefined => {
  const value = options[key];
  return typeof value === 'string' ? value : undefined;
};

export const isSet = (options: ParsedOptions, key: string): boolean => options[key] === true;

/** up, reset and render: the cluster's options. */
export function clusterFlags(options: ParsedOptions): ClusterFlags {
  return {
    name: text(options, 'name'),
    agents: text(options, 'agents'),
    username: text(options, 'username'),
    port: text(options, 'port'),
    passwordStdin: isSet(options, 'password-stdin'),
    registryImage: text(options, 'registry-image'),
    hostsImage: text(options, 'hosts-image'),
    k3sImage: text(options, 'k3s-image'),
    registriesFile: text(options, 'registries-file'),
    noStrict: isSet(options, 'no-strict'),
    noCache: isSet(options, 'no-cache'),
    cache: isSet(options, 'cache'),
    offline: isSet(options, 'offline'),
    config: text(options, 'config'),
    dir: text(options, 'dir'),
    yes: isSet(options, 'yes'),
  };
}

/** down, status and verify: which cluster. */
export function targetFlags(options: ParsedOptions): TargetFlags {
  return { name: text(options, 'name'), config: text(options, 'config') };
}

/** What up's steps (and verify's) take: the factory's runner made for this run. */
export function stepDeps(deps: Deps, verbose: boolean): UpDeps {
  const { runner, ...rest } = deps;
  return { ...rest, run: runner(verbose) };
}
