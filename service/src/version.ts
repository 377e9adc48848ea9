import packageJson from '../../package.json';

/**
 * The service's version: package.json's, compiled in (tsc copies package.json into dist/ beside the code),
 * so it is right however the process is started (`node dist/…` sets no npm_package_version). app_info, the
 * OpenAPI document, the image label and the k8s labels all come from or are checked against it.
 */
export const SERVICE_VERSION: string = packageJson.version;
