// The FIT-Connect simulator lives with the demo's simulators (`npm start` runs it); tests import it from here.
export * from '../../../src/demo/simulators/fit-connect.ts';
