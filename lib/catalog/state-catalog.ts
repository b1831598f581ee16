/**
 * A state catalog is data: an ordered list of named milestones. Codes between milestones
 * (42 between 40 and 45) are valid "inserted" states that have no entry of their own.
 * Each project stores its own catalog of this shape (GET/PUT /projects/{id}/state-codes);
 * new projects start from DEFAULT_MILESTONES.
 */
export interface Milestone {
  code: number;
  name: string;
  description: string;
  category: string;
  /** How long the state usually takes; the stuck detector's yardstick before there is history. */
  expected_duration_s?: number | null;
  /** Overrides the service-wide attempt limit for this state when set. */
  max_attempts?: number | null;
}

export const MIN_STATE_CODE = 0;
export const MAX_STATE_CODE = 100;
export const FINAL_STATE_CODE = 100;

export class StateCatalog {
  private readonly byCode: Map<number, Milestone>;
  private readonly ordered: readonly Milestone[];

  constructor(milestones: readonly Milestone[]) {
    this.ordered = [...milestones].sort((a, b) => a.code - b.code);
    this.byCode = new Map(this.ordered.map((m) => [m.code, m]));
  }

  milestones(): readonly Milestone[] {
    return this.ordered;
  }

  /** The milestone's name, or null for an inserted code the catalog does not name. */
  nameOf(code: number): string | null {
    return this.byCode.get(code)?.name ?? null;
  }

  /** The first catalog milestone strictly after `code`, or null after the last one. */
  nextAfter(code: number): number | null {
    return this.ordered.find((m) => m.code > code)?.code ?? null;
  }

  maxAttemptsFor(code: number, fallback: number): number {
    return this.byCode.get(code)?.max_attempts ?? fallback;
  }

  /** The milestone's expected_duration_s, or null when it sets none (or the code is an insert). */
  expectedDurationOf(code: number): number | null {
    return this.byCode.get(code)?.expected_duration_s ?? null;
  }

  /** Milestone codes strictly after `code`, in order: what remains of a build at `code`. */
  codesAfter(code: number): number[] {
    return this.ordered.filter((m) => m.code > code).map((m) => m.code);
  }

  has(code: number): boolean {
    return this.byCode.has(code);
  }
}

const m = (code: number, name: string, category: string, description: string): Milestone => ({
  code,
  name,
  category,
  description,
});

/** The 21 milestones of the framework's original state table (0, 5, …, 100). */
export const DEFAULT_MILESTONES: readonly Milestone[] = [
  m(0, 'Initial state', 'setup', 'No work started; pipeline triggered'),
  m(5, 'Kickstart initiated', 'base-image', 'Base image creation started; OS installation begins (Packer)'),
  m(10, 'Green image created', 'base-image', 'Minimally bootable image with default user and SSH key auth'),
  m(15, 'Base configuration applied', 'configuration', 'Basic system hardening and package updates'),
  m(20, 'Cloud provider specific setup', 'configuration', 'Provider agents and CLIs (AWS CLI, Azure agent)'),
  m(25, 'Security baseline applied', 'security', 'Firewall rules, SELinux/AppArmor, security patches'),
  m(30, 'Monitoring and logging setup', 'configuration', 'Monitoring agents (CloudWatch, Azure Monitor, …)'),
  m(35, 'Application runtime prerequisites', 'runtime', 'Java, Python, Node.js, … by image type'),
  m(40, 'Network configuration', 'configuration', 'DNS, proxies, VPN setup if needed'),
  m(45, 'Storage configuration', 'configuration', 'Mount points, partitioning, cloud storage integration'),
  m(50, 'User management and authentication', 'security', 'Additional users, sudo, LDAP/AD integration'),
  m(55, 'Service installation', 'application', 'Web servers, databases, application servers'),
  m(60, 'Application deployment', 'application', 'Deploy specific applications or frameworks'),
  m(65, 'Configuration management', 'application', 'Environment-specific configs, secrets management'),
  m(70, 'Integration testing', 'validation', 'Basic functionality tests'),
  m(75, 'Performance optimization', 'optimization', 'Tuning, caching, resource allocation'),
  m(80, 'Backup and recovery setup', 'configuration', 'Backup agents, snapshot configurations'),
  m(85, 'Documentation and metadata', 'delivery', 'Image metadata and documentation'),
  m(90, 'Final validation', 'validation', 'Comprehensive tests, compliance checks'),
  m(95, 'Image sealing and cleanup', 'delivery', 'Remove temporary files, seal image'),
  m(100, 'Complete and delivered', 'delivery', 'Image published and available'),
];

export const defaultCatalog = new StateCatalog(DEFAULT_MILESTONES);

/** Where a build's state names, attempt limits and milestones come from: its project's catalog. */
export interface CatalogSource {
  forProject(projectId: string): Promise<StateCatalog>;
}
