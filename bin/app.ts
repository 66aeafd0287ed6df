#!/usr/bin/env node
import { buildApp } from '../lib/app';

// The CLI hands cdk.json's context (and any `-c auditTrail=...`) to the App; see lib/app.ts.
buildApp();
