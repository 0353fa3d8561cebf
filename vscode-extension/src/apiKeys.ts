/** API keys in VS Code's SecretStorage; handed to the daemon at initialize, never written to disk by us. */

import type * as vscode from 'vscode';

/** Providers offered by "Set API Key"; others can be typed in. */
export const KNOWN_PROVIDERS: readonly string[] = ['openai', 'anthropic', 'openrouter'];
const PROVIDERS_KEY = 'bosun.apiKeyProviders';
const secretKey = (provider: string): string => `bosun.apiKey.${provider}`;

/** Reads and writes API keys by provider name. */
export class ApiKeys {
  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly state: vscode.Memento,
  ) {}

  /** Every stored key by provider. */
  async all(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const provider of this.providers()) {
      const value = await this.secrets.get(secretKey(provider));
      if (value) out[provider] = value;
    }
    return out;
  }

  /** Store (or with an empty value, delete) one provider's key. */
  async set(provider: string, value: string): Promise<void> {
    if (value) {
      await this.secrets.store(secretKey(provider), value);
      // Only the provider's name is remembered outside SecretStorage, to list it later.
      await this.state.update(PROVIDERS_KEY, [...new Set([...this.custom(), provider])].filter((p) => !KNOWN_PROVIDERS.includes(p)));
    } else {
      await this.secrets.delete(secretKey(provider));
    }
  }

  /** Provider names that may have a key. */
  providers(): string[] {
    return [...KNOWN_PROVIDERS, ...this.custom()];
  }

  private custom(): string[] {
    const v = this.state.get<unknown>(PROVIDERS_KEY);
    return Array.isArray(v) ? v.filter((p): p is string => typeof p === 'string') : [];
  }
}
