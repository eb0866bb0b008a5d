/**
 * Reads docker-compose.yml for tests that run its services' commands on this machine (there is
 * no docker daemon here): the parts of the file they use, validated with zod, and the host
 * path a container path of a service is bind-mounted from.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';

/** The repository root, where docker-compose.yml is. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const serviceSchema = z.object({
  image: z.string(),
  profiles: z.array(z.string()).optional(),
  /** Only the list form: each argument as the container gets it, no shell splitting to redo. */
  command: z.array(z.string()).optional(),
  working_dir: z.string().optional(),
  volumes: z.array(z.string()).default([]),
  environment: z.record(z.string(), z.string()).optional(),
  depends_on: z.record(z.string(), z.object({ condition: z.string() })).optional(),
  init: z.boolean().optional(),
});

/** A service of docker-compose.yml (the fields the tests read). */
export type ComposeService = z.infer<typeof serviceSchema>;

const composeSchema = z.object({ services: z.record(z.string(), serviceSchema) });

/**
 * Parses docker-compose.yml (merge keys `<<:` resolved, as docker compose does).
 * @throws when the file does not have the shape of {@link ComposeService}s
 */
export function loadCompose(file = path.join(ROOT, 'docker-compose.yml')): Record<string, ComposeService> {
  return composeSchema.parse(parse(readFileSync(file, 'utf8'), { merge: true })).services;
}

/** True when `docker compose --profile <profile> up` starts the service. */
export function inProfile(service: ComposeService, profile: string): boolean {
  return service.profiles === undefined || service.profiles.includes(profile);
}

/**
 * The host path that `containerPath` of the service is bind-mounted from (the longest mount
 * target that contains it; relative sources are relative to the compose file's directory).
 * @throws when no bind mount holds it (a named volume, or not mounted)
 */
export function hostPath(service: ComposeService, containerPath: string, root = ROOT): string {
  const mounts = service.volumes
    .map((v) => v.split(':'))
    .filter(([, target]) => target !== undefined)
    .map(([source, target]) => ({ source: source!, target: target! }))
    .filter(
      ({ target }) => containerPath === target || containerPath.startsWith(`${target.replace(/\/$/, '')}/`),
    )
    .sort((a, b) => b.target.length - a.target.length);
  const mount = mounts[0];
  if (!mount || !/^[./]/.test(mount.source))
    throw new Error(
      `${containerPath} is not bind-mounted from the host (volumes: ${service.volumes.join(', ')})`,
    );
  return path.resolve(root, mount.source, path.relative(mount.target, containerPath));
}
