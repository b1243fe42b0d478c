export {run} from '@oclif/core'
export {startStack} from './stack/index.js'
export type {StackHandle, StackOptions} from './stack/types.js'
