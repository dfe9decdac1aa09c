// Requests to our own API (same origin only: nothing leaves the machine).
import { T } from './strings.js';

export class ApiError extends Error {
  constructor(message, status, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/** GET/POST JSON; an error envelope becomes an ApiError with its Chinese ``detail``. */
export async function fetchJson(url, options = {}) {
  let response;
  try {
    response = await fetch(url, { headers: { Accept: 'application/geo+json, application/json' }, ...options });
  } catch (_) {
    throw new ApiError(T.networkError, 0, null);
  }
  if (!response.ok) {
    let body = null;
    let detail = `HTTP ${response.status}`;
    try {
      body = await response.json();
      detail = body.detail || detail;
    } catch (_) { /* not JSON: keep the status */ }
    throw new ApiError(typeof detail === 'string' ? detail : JSON.stringify(detail), response.status, body);
  }
  return response.json();
}

/** Every page of a collection, following ``next`` links. */
export async function fetchAll(url) {
  const features = [];
  let next = url;
  while (next) {
    const page = await fetchJson(next);
    features.push(...page.features);
    const link = (page.links || []).find((l) => l.rel === 'next');
    next = link ? link.href : null;
  }
  return { type: 'FeatureCollection', features };
}

/** A query string from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== null && v !== undefined && v !== '') q.set(k, v);
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}
